// asp::asio::io_context_backend: Asio handlers run while the loop waits, in its order.
#include <asp/asio/backend.hpp>

#include <asp/asio/use_task.hpp>
#include <asp/asp.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "asio_loop.hpp"
#include "test_support.hpp"

namespace {

using namespace asp::testing;

struct IoContextBackend : ::testing::Test, asio_loop {};

TEST_F(IoContextBackend, HandlersPostedFromAnotherThreadRunWhileTheLoopWaits) {
  // The run holds open; another thread posts an Asio handler, which hands work to the loop
  // and ends the run. Everything runs on the loop's thread.
  asp::work_guard guard = loop.hold();
  std::vector<std::string> log;
  const std::thread::id loop_thread = std::this_thread::get_id();
  std::thread other([&] {
    boost::asio::post(ioc, [&] {
      EXPECT_EQ(std::this_thread::get_id(), loop_thread);
      log.push_back("asio handler");
      loop.post([&](asp::time_point stamp) {
        log.push_back("posted at " + std::to_string(secs(stamp)) + ", now " +
                      std::to_string(secs(loop.now())));
        guard.reset();
      });
    });
  });
  loop.run();
  other.join();
  EXPECT_EQ(log,
            (std::vector<std::string>{"asio handler", "posted at 86400.000000, now 86400.000000"}));
}

// While the loop polls for input (run_options::busy_poll), the io_context's handlers still
// run: the polling looks at the backend too.
TEST_F(IoContextBackend, HandlersRunWhileTheLoopBusyPolls) {
  asp::work_guard guard = loop.hold();
  int ran = 0;
  std::thread other([&] {
    boost::asio::post(ioc, [&] {
      ++ran;
      guard.reset();
    });
  });
  loop.run({.busy_poll = std::chrono::hours(1)});
  other.join();
  EXPECT_EQ(ran, 1);
}

TEST_F(IoContextBackend, ReplayDoesNotGoThroughTheIoContext) {
  int handlers = 0;
  boost::asio::post(ioc, [&] { ++handlers; });
  int events = 0;
  std::vector<asp::event<int>> past;
  for (int i = 0; i < 1000; ++i) past.push_back({t0 + std::chrono::seconds(i), i});
  loop.run({}, asp::process_stream([&](asp::time_point, int) { ++events; }, past));
  EXPECT_EQ(events, 1000);
  EXPECT_EQ(handlers, 0);  // the loop never waited, so the io_context never ran
  EXPECT_EQ(loop.stats().waits, 0u);
}

TEST_F(IoContextBackend, AStopFromAnotherThreadEndsARunWaitingInTheIoContext) {
  asp::work_guard guard = loop.hold();
  std::thread stopper([&] {
    while (clock.blocks() == 0) std::this_thread::yield();
    loop.stop();
  });
  loop.run();
  stopper.join();
  EXPECT_EQ(clock.blocks(), 1u);
}

}  // namespace

// asp::asio::host: the loop inside an application's io_context, in the same order as run().
#include <asp/asio/host.hpp>

#include <asp/asp.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace asp::testing;

struct Host : ::testing::Test, manual_loop {
  boost::asio::io_context ioc;
  std::vector<std::string> log;
  void note(const std::string& what) {
    log.push_back(what + " at " + std::to_string(secs(loop.now())));
  }
};

TEST_F(Host, HistoryThenLiveWorkRunsInOrderInsideTheIoContext) {
  const asp::time_point real = clock.now();
  loop.call_at(real + 2s, [&] { note("live timer"); });
  asp::start(
      loop, asp::process_stream([&](asp::time_point, int v) { note("event " + std::to_string(v)); },
                                std::vector<asp::event<int>>{{t0, 0}, {t0 + 1s, 1}}))
      .detach();
  bool done = false;
  int other_handlers = 0;
  boost::asio::post(ioc, [&] { ++other_handlers; });
  asp::asio::host host(ioc, loop, {}, [&] { done = true; });
  ioc.run();
  EXPECT_TRUE(done);
  EXPECT_TRUE(host.done());
  EXPECT_EQ(other_handlers, 1);
  EXPECT_EQ(log, (std::vector<std::string>{"event 0 at 0.000000", "event 1 at 1.000000",
                                           "live timer at 86402.000000"}));
  EXPECT_EQ(clock.now(), real + 2s);  // the manual clock was moved, not waited for
}

TEST_F(Host, InputFromAnotherThreadWakesTheHostedLoop) {
  asp::channel<int> ch(loop);
  asp::start(loop, asp::process_stream(
                       [&](asp::time_point, int v) { note("pushed " + std::to_string(v)); },
                       asp::none, ch))
      .detach();
  asp::asio::host host(ioc, loop);
  std::thread producer([&] {
    ch.push(clock.now(), 7);
    ch.close();
  });
  ioc.run();
  producer.join();
  EXPECT_EQ(log, (std::vector<std::string>{"pushed 7 at 86400.000000"}));
}

TEST_F(Host, AFailureOfTheRunComesOutOfTheIoContext) {
  loop.call_at(t0, [] { throw std::runtime_error("bad tick"); });
  asp::asio::host host(ioc, loop);
  try {
    ioc.run();
    FAIL() << "io_context::run did not throw";
  } catch (const asp::run_error& e) {
    EXPECT_EQ(e.at(), t0);
  }
}

}  // namespace

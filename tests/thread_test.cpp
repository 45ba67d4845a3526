// Other threads talk to the loop through post, stop and work guards. The manual clock makes the
// loop block for real only when nothing is scheduled, so these tests never sleep.
#include <asp/asp.hpp>

#include <gtest/gtest.h>

#include <csignal>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace asp::testing;

struct Threads : ::testing::Test {
  asp::manual_clock clock{t0};
  asp::loop loop{clock};
};

TEST_F(Threads, StopFromAnotherThreadEndsABlockedRun) {
  asp::work_guard guard = loop.hold();  // nothing scheduled, yet the run must go on
  std::thread stopper([&] { loop.stop(); });
  loop.run();
  stopper.join();
  EXPECT_EQ(loop.stats().runs, 0u);
}

TEST_F(Threads, StopBeforeTheRunEndsTheNextRunAtOnce) {
  int ran = 0;
  loop.call_soon([&] { ++ran; });
  loop.stop();
  loop.run();
  EXPECT_EQ(ran, 0);
  loop.run();  // the request was consumed
  EXPECT_EQ(ran, 1);
}

TEST_F(Threads, PostsFromAnotherThreadRunInOrderWithTheirStamps) {
  asp::work_guard guard = loop.hold();
  std::vector<int> got;
  std::vector<asp::time_point> stamps;
  std::thread producer([&] {
    for (int i = 0; i < 1000; ++i) {
      loop.post([&got, &stamps, i](asp::time_point stamp) {
        got.push_back(i);
        stamps.push_back(stamp);
      });
    }
    loop.post([&guard] { guard.reset(); });  // released on the loop's thread
  });
  loop.run();
  producer.join();
  ASSERT_EQ(got.size(), 1000u);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(got[static_cast<std::size_t>(i)], i);
  for (asp::time_point s : stamps) EXPECT_EQ(s, t0);
}

TEST_F(Threads, C6_WorkPostedFromAnotherThreadDuringReplayIsTakenBeforeAnyLaterWork) {
  // The loop replays a day-old history while another thread posts work stamped in that
  // history; once the post has returned, nothing due later may run before it.
  const asp::time_point b = t0 - 24h;
  std::vector<std::string> order;
  for (int i = 1; i <= 4; ++i) {
    loop.call_at(b + std::chrono::seconds(i), [&order, &loop = loop, b, i] {
      order.push_back("timer " + std::to_string(i));
      if (i == 2) {
        std::thread producer([&] {
          loop.post_at(b + 2500ms, [&](asp::time_point stamp) {
            order.push_back("posted " + std::to_string(secs(stamp) + 24 * 3600) + " now " +
                            std::to_string(secs(loop.now()) + 24 * 3600));
          });
        });
        producer.join();
      }
    });
  }
  loop.run();
  EXPECT_EQ(order, (std::vector<std::string>{"timer 1", "timer 2", "posted 2.500000 now 2.500000",
                                             "timer 3", "timer 4"}));
}

TEST_F(Threads, ReleasingTheLastGuardFromAnotherThreadEndsTheRun) {
  asp::work_guard guard = loop.hold();
  std::thread releaser([&] { guard.reset(); });
  loop.run();
  releaser.join();
  SUCCEED();
}

TEST_F(Threads, PostsMadeBeforeTheRunWaitForIt) {
  int ran = 0;
  std::thread producer([&] { loop.post([&] { ++ran; }); });
  producer.join();
  EXPECT_EQ(ran, 0);
  loop.run();
  EXPECT_EQ(ran, 1);
}

asp::loop* signalled_loop = nullptr;
void on_signal(int) {
  signalled_loop->stop();
}

TEST_F(Threads, StopIsSafeFromASignalHandler) {
  signalled_loop = &loop;
  auto previous = std::signal(SIGUSR1, on_signal);
  asp::work_guard guard = loop.hold();
  loop.call_soon([] { std::raise(SIGUSR1); });
  loop.call_later(1s, [] { ADD_FAILURE() << "ran after stop"; });
  loop.run();
  std::signal(SIGUSR1, previous);
  EXPECT_EQ(loop.stats().runs, 1u);
}

}  // namespace

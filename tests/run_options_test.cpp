// How a run starts, ends and paces is tested where those act (loop_test, pacing_test,
// host_test); here, how it waits: busy polling before the loop sleeps.
#include <asp/run_options.hpp>

#include <asp/asp.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace asp::testing;

// Busy polling (run_options::busy_poll): before it would sleep, the loop polls for input. A
// post that arrives meanwhile wakes nothing — only the release of the last hold wakes the
// backend — and posts still run once each, in order.
TEST(RunOptionsBusyPoll, PostsArrivingWhileTheLoopPollsWakeNothing) {
  struct counting_backend final : asp::backend {
    asp::eventfd_backend inner;
    std::atomic<int> wakes{0};
    bool wait(std::optional<asp::duration> timeout) override { return inner.wait(timeout); }
    void wake() noexcept override {
      wakes.fetch_add(1);
      inner.wake();
    }
  } backend;
  asp::manual_clock clock{t0};
  asp::loop loop(clock, backend);
  asp::work_guard guard = loop.hold();
  std::atomic<int> ran{0};
  std::vector<int> order;
  std::thread producer([&] {
    for (int i = 0; i < 1000; ++i) {
      loop.post([&, i] {
        order.push_back(i);
        ran.fetch_add(1, std::memory_order_release);
      });
      while (ran.load(std::memory_order_acquire) != i + 1) std::this_thread::yield();
    }
    loop.post([&] { guard.reset(); });
  });
  loop.run({.busy_poll = std::chrono::hours(1)});
  producer.join();
  ASSERT_EQ(order.size(), 1000u);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(order[static_cast<std::size_t>(i)], i);
  EXPECT_EQ(backend.wakes.load(), 1) << "only the last hold's release wakes the loop";
}

// What ends a wait ends the polling too: the real clock reaching the next work, the last hold
// let go, a stop. (Each run polls for an hour at most: a regression hangs, it does not pass.)
TEST(RunOptionsBusyPoll, WorkFallingDueWhileTheLoopPollsRunsThen) {
  asp::manual_clock clock{t0};
  asp::loop loop{clock};
  bool ran = false;
  // At a set time: a delay given before the run counts from the run's start, which the other
  // thread's advance may already have moved.
  loop.call_at(t0 + 5s, [&] { ran = true; });
  std::thread mover([&] { clock.advance(5s); });
  loop.run({.busy_poll = std::chrono::hours(1)});
  mover.join();
  EXPECT_TRUE(ran);
  EXPECT_EQ(loop.now(), t0 + 5s);
}

TEST(RunOptionsBusyPoll, ReleasingTheLastHoldOrAStopEndsThePolling) {
  asp::manual_clock clock{t0};
  asp::loop loop{clock};
  {
    asp::work_guard guard = loop.hold();
    std::thread releaser([&] { guard.reset(); });
    loop.run({.busy_poll = std::chrono::hours(1)});
    releaser.join();
  }
  asp::work_guard guard = loop.hold();
  std::thread stopper([&] { loop.stop(); });
  loop.run({.busy_poll = std::chrono::hours(1)});
  stopper.join();
  EXPECT_EQ(loop.stats().runs, 0u);
}

TEST(RunOptionsBusyPoll, ANegativeDurationIsRefused) {
  asp::manual_clock clock{t0};
  asp::loop loop{clock};
  EXPECT_THROW(loop.run({.busy_poll = std::chrono::nanoseconds(-1)}), std::invalid_argument);
}

}  // namespace

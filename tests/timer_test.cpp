#include <asp/timer.hpp>

#include <asp/asp.hpp>

#include <gtest/gtest.h>

#include <vector>

#include "test_support.hpp"

namespace {

using namespace asp::testing;

struct Timer : ::testing::Test {
  asp::manual_clock clock{t0 + std::chrono::days(400)};
  asp::loop loop{clock};
};

TEST_F(Timer, TicksAtStartAndEveryIntervalBeforeEnd) {
  std::vector<double> ticks;
  asp::spawn(loop, asp::timer(
                       2s, [&](asp::time_point t) { ticks.push_back(secs(t)); }, t0, t0 + 7s))
      .detach();
  loop.run();
  EXPECT_EQ(ticks, (std::vector<double>{0, 2, 4, 6}));
}

TEST_F(Timer, AcceptsCallbacksWithoutTimeAndCoroutineCallbacks) {
  std::vector<double> log;
  auto slow = [&]() -> asp::task<void> {
    log.push_back(secs(asp::now()));
    co_await asp::sleep(500ms);
    log.push_back(secs(asp::now()));
  };
  asp::spawn(loop, asp::timer(1s, slow, t0, t0 + 2s)).detach();
  loop.run({.start = t0});
  EXPECT_EQ(log, (std::vector<double>{0, 0.5, 1, 1.5}));
}

TEST_F(Timer, AYearOfHourlyTicksReplaysWithoutWaiting) {
  std::uint64_t ticks = 0;
  asp::time_point last{};
  asp::spawn(
      loop, asp::timer(
                1h, [&](asp::time_point t) { ++ticks, last = t; }, t0, t0 + std::chrono::days(365)))
      .detach();
  loop.run();
  EXPECT_EQ(ticks, 8760u);
  EXPECT_EQ(last, t0 + std::chrono::hours(8759));
  EXPECT_EQ(loop.stats().waits, 0u);
  EXPECT_EQ(clock.advances(), 0u);
}

TEST_F(Timer, RejectsANonPositiveInterval) {
  EXPECT_THROW((void)asp::timer(0s, [] {}), std::invalid_argument);
}

// Live, one tick takes 3.5 s of real time; the policy decides what happens to the ticks missed.
struct TimerCatchUp : ::testing::Test {
  asp::manual_clock clock{t0};
  asp::loop loop{clock};
  std::vector<std::pair<double, double>> ticks;  // (tick time, now())
  std::uint64_t skipped = 0;

  void run(asp::catch_up policy) {
    auto cb = [&](asp::time_point t) {
      ticks.emplace_back(secs(t), secs(loop.now()));
      if (t == t0 + 3s) clock.advance(3500ms);  // a slow callback
    };
    asp::spawn(
        loop,
        asp::timer(1s, cb,
                   {.start = t0 + 1s, .end = t0 + 10s, .policy = policy, .skipped = &skipped}))
        .detach();
    loop.run();
  }
};

TEST_F(TimerCatchUp, FireAllRunsEveryMissedTickAtOnceWithItsOwnTime) {
  run(asp::catch_up::fire_all);
  EXPECT_EQ(ticks, (std::vector<std::pair<double, double>>{
                       {1, 1}, {2, 2}, {3, 3}, {4, 4}, {5, 5}, {6, 6}, {7, 7}, {8, 8}, {9, 9}}));
  EXPECT_EQ(skipped, 0u);
  // Waited for ticks 1, 2, 3 and 7, 8, 9; ticks 4, 5, 6 were already behind the real clock.
  EXPECT_EQ(clock.advances(), 6u);
}

TEST_F(TimerCatchUp, SkipResumesOnTheGridAtOrAfterRealTime) {
  run(asp::catch_up::skip);
  EXPECT_EQ(ticks, (std::vector<std::pair<double, double>>{
                       {1, 1}, {2, 2}, {3, 3}, {7, 7}, {8, 8}, {9, 9}}));
  EXPECT_EQ(skipped, 3u);
}

TEST_F(TimerCatchUp, InReplayEveryTickFiresWhateverThePolicy) {
  clock.set(t0 + 1h);
  run(asp::catch_up::skip);
  EXPECT_EQ(ticks.size(), 9u);
  EXPECT_EQ(skipped, 0u);
}

TEST_F(Timer, CancellingTheTimerTaskStopsIt) {
  std::vector<double> ticks;
  auto h = asp::spawn(loop, asp::timer(
                                1s, [&](asp::time_point t) { ticks.push_back(secs(t)); }, t0));
  loop.call_at(t0 + 2500ms, [&] { h.cancel(); });
  loop.run({.start = t0});
  EXPECT_EQ(ticks, (std::vector<double>{0, 1, 2}));
}

}  // namespace

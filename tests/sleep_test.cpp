// asp::sleep and asp::sleep_until: exact virtual times, order among work due now, "never".
#include <asp/sleep.hpp>

#include <asp/asp.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace asp::testing;

struct Sleep : ::testing::Test, manual_loop {};

TEST_F(Sleep, SleepResumesAtTheExactVirtualTime) {
  std::vector<double> times;
  auto body = [&]() -> asp::task<void> {
    times.push_back(secs(asp::now()));
    co_await asp::sleep(1500ms);
    times.push_back(secs(asp::now()));
    co_await asp::sleep_until(t0 + 10s);
    times.push_back(secs(asp::now()));
    co_await asp::sleep_until(t0);  // in the past: resumes at once, now() unchanged
    times.push_back(secs(asp::now()));
  };
  loop.run(body(), {.start = t0});
  EXPECT_EQ(times, (std::vector<double>{0, 1.5, 10, 10}));
  EXPECT_EQ(loop.stats().waits, 0u);
}

TEST_F(Sleep, SleepZeroLetsWorkAlreadyDueRunFirst) {
  std::vector<std::string> order;
  auto body = [&]() -> asp::task<void> {
    asp::call_soon([&] { order.push_back("callback"); });
    co_await asp::sleep(0s);
    order.push_back("after sleep(0)");
  };
  loop.run(body());
  EXPECT_EQ(order, (std::vector<std::string>{"callback", "after sleep(0)"}));
}

TEST_F(Sleep, SleepOfTheLongestDelayNeverResumes) {
  bool resumed = false;
  auto sleeper = [&]() -> asp::task<void> {
    co_await asp::sleep(asp::duration::max());
    resumed = true;
  };
  loop.call_at(t0, [&] { asp::spawn(loop, sleeper()).detach(); });
  loop.run({.end = t0 + 48h});
  EXPECT_FALSE(resumed);
  // Nothing else can happen before the end, so the run returns without waiting for it.
  EXPECT_EQ(loop.now(), t0);
}

}  // namespace

#include <asp/clock.hpp>
#include <asp/time.hpp>

#include <gtest/gtest.h>

#include "test_support.hpp"

namespace {

using namespace asp::testing;

TEST(ManualClock, MovesOnlyWhenToldAndNeverBackwards) {
  asp::manual_clock clock(t0);
  EXPECT_EQ(clock.now(), t0);
  clock.advance(5s);
  EXPECT_EQ(clock.now(), t0 + 5s);
  clock.set(t0 + 1s);
  EXPECT_EQ(clock.now(), t0 + 5s);
  clock.advance(-3s);
  EXPECT_EQ(clock.now(), t0 + 5s);
  clock.set(t0 + 1h);
  EXPECT_EQ(clock.now(), t0 + 1h);
}

TEST(ManualClock, JumpsToTheDeadlineInsteadOfWaiting) {
  asp::manual_clock clock(t0);
  asp::eventfd_backend wakeup;
  clock.wait_until(t0 + 10s, wakeup);
  EXPECT_EQ(clock.now(), t0 + 10s);
  EXPECT_EQ(clock.advances(), 1u);
  EXPECT_EQ(clock.blocks(), 0u);
}

TEST(ManualClock, PendingWakeUpIsTakenBeforeTimeMovesOn) {
  asp::manual_clock clock(t0);
  asp::eventfd_backend wakeup;
  wakeup.wake();
  clock.wait_until(t0 + 10s, wakeup);
  EXPECT_EQ(clock.now(), t0);
  EXPECT_EQ(clock.advances(), 0u);
}

TEST(SystemClock, NeverDecreasesAndStartsNearWallTime) {
  asp::system_clock clock;
  const auto wall = std::chrono::time_point_cast<asp::duration>(std::chrono::system_clock::now());
  asp::time_point previous = clock.now();
  // Within a minute of wall time: a reading, not a timing measurement.
  EXPECT_LT(std::chrono::abs(previous - wall), std::chrono::minutes(1));
  for (int i = 0; i < 1000; ++i) {
    const asp::time_point next = clock.now();
    ASSERT_LE(previous, next);
    previous = next;
  }
}

TEST(SystemClock, AGivenStartShiftsItsReadings) {
  const asp::time_point far =
      asp::time_point{std::chrono::sys_days{std::chrono::year{2200} / 1 / 1}};
  asp::system_clock clock(far);
  const asp::time_point first = clock.now();
  EXPECT_GE(first, far);
  // A reading, not a timing measurement: it started at `far`, not at wall time.
  EXPECT_LT(first, far + std::chrono::hours(24));
  EXPECT_LE(first, clock.now());
}

TEST(SystemClock, WaitWithPastDeadlineReturnsAtOnce) {
  asp::system_clock clock;
  asp::eventfd_backend wakeup;
  const asp::time_point before = clock.now();
  clock.wait_until(before - 1s, wakeup);
  EXPECT_FALSE(wakeup.wait(asp::duration::zero()));
}

}  // namespace

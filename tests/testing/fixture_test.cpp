// asp::testing's fixture and helpers, as a user's test would use them.
#include <asp/testing/fixture.hpp>

#include <asp/asp.hpp>

#include <gtest/gtest.h>

#include <stdexcept>

namespace {

using namespace asp::testing;

struct Fixture : ::testing::Test, manual_loop {};

TEST_F(Fixture, TheManualLoopStandsADayAfterT0AndRunsHistoryAtOnce) {
  EXPECT_EQ(clock.now(), t0 + 24h);
  double at = -1;
  loop.call_at(t0 + 1500ms, [&] { at = secs(asp::now()); });
  loop.run();
  EXPECT_EQ(at, 1.5);
  EXPECT_EQ(clock.advances(), 0u);
}

TEST(Fixtures, RunErrorOfReturnsTheFailureAndRefusesASuccess) {
  manual_loop m;
  m.loop.call_at(t0, [] { throw std::runtime_error("x"); });
  EXPECT_EQ(run_error_of([&] { m.loop.run(); }).at(), t0);
  EXPECT_THROW(run_error_of([] {}), std::logic_error);
}

TEST(Fixtures, LifetimeCounterCountsLiveCopies) {
  int alive = 0;
  {
    lifetime_counter a(alive);
    lifetime_counter b(a);
    EXPECT_EQ(alive, 2);
  }
  EXPECT_EQ(alive, 0);
}

}  // namespace

// asp::asio::stop_on_signals: the first signal stops the run gracefully, a second exits.
#include <asp/asio/signals.hpp>

#include <asp/asp.hpp>

#include <gtest/gtest.h>

#include <csignal>
#include <stdexcept>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace asp::testing;

TEST(StopOnSignals, TheFirstSignalEndsTheRunBeforeItsNextWorkAndLeavesTheRestPending) {
  manual_loop m;
  asp::asio::stop_on_signals signals(m.loop);
  std::vector<int> ran;
  m.loop.call_at(t0 + 1s, [&] {
    ran.push_back(1);
    std::raise(SIGINT);
    ran.push_back(2);  // the callback is not cut in half
  });
  m.loop.call_at(t0 + 2s, [&] { ran.push_back(3); });
  m.loop.run();
  EXPECT_EQ(signals.received(), SIGINT);
  EXPECT_EQ(ran, (std::vector<int>{1, 2}));
  m.loop.run();  // a later run continues
  EXPECT_EQ(ran, (std::vector<int>{1, 2, 3}));
}

TEST(StopOnSignals, OnlyOneAtATime) {
  manual_loop m;
  asp::asio::stop_on_signals signals(m.loop);
  EXPECT_THROW(asp::asio::stop_on_signals(m.loop), std::logic_error);
  EXPECT_EQ(signals.received(), 0);
}

TEST(StopOnSignalsDeathTest, ASecondSignalExitsAtOnce) {
  EXPECT_EXIT(
      {
        manual_loop m;
        asp::asio::stop_on_signals signals(m.loop, {SIGTERM});
        std::raise(SIGTERM);
        std::raise(SIGTERM);
        std::_Exit(0);
      },
      ::testing::ExitedWithCode(128 + SIGTERM), "");
}

}  // namespace

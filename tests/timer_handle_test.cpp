// Cancelling scheduled work through its timer_handle.
#include <asp/timer_handle.hpp>

#include <asp/asp.hpp>

#include <gtest/gtest.h>

#include <vector>

#include "test_support.hpp"

namespace {

using namespace asp::testing;

struct TimerHandle : ::testing::Test, manual_loop {};

TEST_F(TimerHandle, CancelBeforeItFiresPreventsIt) {
  int fired = 0;
  int alive = 0;
  asp::timer_handle h = loop.call_at(t0 + 1s, [&fired, c = lifetime_counter(alive)] { ++fired; });
  EXPECT_TRUE(h.pending());
  EXPECT_TRUE(h.cancel());
  EXPECT_EQ(alive, 0);  // the callable is destroyed at once
  EXPECT_FALSE(h.pending());
  EXPECT_FALSE(h.cancel());
  loop.run();
  EXPECT_EQ(fired, 0);
}

TEST_F(TimerHandle, CancelAfterItFiredOrOnAnEmptyHandleIsHarmless) {
  int fired = 0;
  asp::timer_handle h = loop.call_at(t0 + 1s, [&] { ++fired; });
  loop.call_at(t0 + 1s, [] {});  // reuses nodes after the first one fired
  loop.run();
  EXPECT_EQ(fired, 1);
  EXPECT_FALSE(h.pending());
  EXPECT_FALSE(h.cancel());
  EXPECT_FALSE(asp::timer_handle{}.cancel());
}

TEST_F(TimerHandle, CallbackCanCancelWorkScheduledAfterIt) {
  std::vector<int> order;
  asp::timer_handle later = loop.call_at(t0 + 2s, [&] { order.push_back(2); });
  loop.call_at(t0 + 1s, [&] {
    order.push_back(1);
    EXPECT_TRUE(later.cancel());
  });
  loop.call_at(t0 + 3s, [&] { order.push_back(3); });
  loop.run();
  EXPECT_EQ(order, (std::vector<int>{1, 3}));
}

TEST_F(TimerHandle, ManyCancelledTimersDoNotChangeWhatRuns) {
  std::vector<asp::timer_handle> handles;
  int fired = 0;
  for (int i = 0; i < 5000; ++i) {
    handles.push_back(loop.call_at(t0 + std::chrono::seconds(i), [&fired] { ++fired; }));
  }
  for (std::size_t i = 0; i < handles.size(); ++i) {
    if (i % 5 != 0) handles[i].cancel();
  }
  loop.run();
  EXPECT_EQ(fired, 1000);
  EXPECT_EQ(loop.now(), t0 + 4995s);
}

}  // namespace

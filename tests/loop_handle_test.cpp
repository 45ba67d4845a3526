// What other threads and sources keep of a loop: a handle that posts into it (and outlives it
// safely) and a work guard that holds its run open.
#include <asp/loop_handle.hpp>

#include <asp/asp.hpp>

#include <gtest/gtest.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace asp::testing;

TEST(LoopHandle, PostsFromAnotherThreadDueAtTheArrivalStamp) {
  asp::manual_clock clock{t0 + 24h};
  asp::loop loop{clock};
  asp::loop_handle handle = loop.handle();
  std::vector<std::pair<double, double>> stamps;  // (stamp received, current_due())
  std::thread producer([&] {
    handle.post(
        [&](asp::time_point stamp) { stamps.emplace_back(secs(stamp), secs(loop.current_due())); });
    handle.post_at(t0 + 5s, [&](asp::time_point stamp) {
      stamps.emplace_back(secs(stamp), secs(loop.current_due()));
    });
  });
  producer.join();
  EXPECT_FALSE(handle.gone());
  loop.run();
  // The source's own time first (it is earlier), then the arrival: the real clock's reading.
  EXPECT_EQ(stamps, (std::vector<std::pair<double, double>>{{5, 5}, {86400, 86400}}));
}

TEST(LoopHandle, PostingAfterTheLoopIsDestroyedThrows) {
  asp::manual_clock clock{t0};
  std::optional<asp::loop> l;
  l.emplace(clock);
  asp::loop_handle handle = l->handle();
  asp::loop_handle copy = handle;
  l.reset();
  EXPECT_TRUE(handle.gone());
  EXPECT_TRUE(copy.gone());
  try {
    handle.post([] {});
    FAIL() << "expected std::logic_error";
  } catch (const std::logic_error& e) {
    EXPECT_EQ(std::string(e.what()), "asp: work posted to a loop that has been destroyed");
  }
  EXPECT_THROW(copy.post_at(t0, [] {}), std::logic_error);
}

TEST(LoopHandle, AnEmptyHandleCountsAsGoneAndPostingThroughItThrows) {
  asp::loop_handle empty;
  EXPECT_TRUE(empty.gone());
  try {
    empty.post([] {});
    FAIL() << "expected std::logic_error";
  } catch (const std::logic_error& e) {
    EXPECT_EQ(std::string(e.what()),
              "asp: work posted through an empty loop_handle (made by default)");
  }
  EXPECT_THROW(empty.post_at(t0, [] {}), std::logic_error);
}

// A guard holds the run open while nothing is scheduled; released from another thread, it
// lets the run end. A moved-from guard holds nothing, and releasing twice is harmless.
TEST(WorkGuard, HoldsTheRunUntilReleasedFromAnyThread) {
  asp::manual_clock clock{t0};
  asp::loop loop{clock};
  asp::work_guard guard = loop.hold();
  asp::work_guard moved = std::move(guard);
  guard.reset();
  int ran = 0;
  std::thread releaser([&] {
    loop.post([&] { ++ran; });
    moved.reset();
    moved.reset();
  });
  loop.run();
  releaser.join();
  EXPECT_EQ(ran, 1);
}

}  // namespace

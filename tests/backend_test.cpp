// The waiting backend: blocks until a deadline or a wake-up.
#include <asp/backend.hpp>

#include <asp/asp.hpp>

#include <gtest/gtest.h>

#include <poll.h>

#include <thread>

#include "test_support.hpp"

namespace {

using namespace asp::testing;

TEST(EventfdBackend, WakeUpsPendingTogetherAreConsumedByOneWait) {
  asp::eventfd_backend wakeup;
  wakeup.wake();
  wakeup.wake();
  EXPECT_TRUE(wakeup.wait(std::nullopt));  // both notifications are consumed at once
  EXPECT_FALSE(wakeup.wait(asp::duration::zero()));
}

TEST(EventfdBackend, AWaitTimesOutWithoutAWakeUp) {
  asp::eventfd_backend backend;
  EXPECT_FALSE(backend.wait(asp::duration::zero()));
  EXPECT_FALSE(backend.wait(1ms));
}

TEST(EventfdBackend, ItsDescriptorIsReadableWhileAWakeUpIsPending) {
  asp::eventfd_backend backend;
  ::pollfd pfd{backend.native_handle(), POLLIN, 0};
  EXPECT_EQ(::poll(&pfd, 1, 0), 0);
  backend.wake();
  EXPECT_EQ(::poll(&pfd, 1, 0), 1);
  EXPECT_TRUE(backend.wait(asp::duration::zero()));
  EXPECT_EQ(::poll(&pfd, 1, 0), 0);
}

TEST(EventfdBackend, AWakeUpFromAnotherThreadEndsAnUnlimitedWait) {
  asp::eventfd_backend backend;
  std::thread waker([&] { backend.wake(); });
  EXPECT_TRUE(backend.wait(std::nullopt));
  waker.join();
}

}  // namespace

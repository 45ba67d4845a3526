// The stack stays flat: a coroutine that takes, in a loop, what completes without suspending
// (events already queued in a live source, a coroutine callback that never suspends, a task
// that returns at once) does not nest one frame per iteration, whatever the compiler does with
// tail calls. Each case runs a million iterations, enough to overflow the stack of a Debug or
// sanitizer build if anything nested, and checks the exact sum and that the last iteration ran
// at the same stack depth as the second.
#include <asp/asp.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace asp::testing;

constexpr int n = 1'000'000;
constexpr std::int64_t expected_sum = std::int64_t{n} * (n - 1) / 2;

// Where on the stack each delivery runs: the frame address of a function that is never
// inlined, taken at the second and at the last call.
struct depth_probe {
  std::uintptr_t second = 0;
  std::uintptr_t last = 0;
  std::int64_t calls = 0;

  [[gnu::noinline]] void operator()() {
    const auto here = reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
    if (calls == 1) second = here;
    last = here;
    ++calls;
  }
};

struct FlatStack : ::testing::Test, manual_loop {
  std::int64_t sum = 0;
  depth_probe probe;

  auto add() {
    return [this](asp::time_point, int v) {
      sum += v;
      probe();
    };
  }
  void expect_flat(std::int64_t calls = n) {
    EXPECT_EQ(probe.calls, calls);
    EXPECT_EQ(probe.last, probe.second) << "the stack grew by " << probe.second - probe.last
                                        << " bytes between the second and the last call";
  }
};

// A channel holding `count` events, all pushed before the run, and closed.
asp::channel<int> filled_channel(asp::loop& l, int count) {
  asp::channel<int> ch(l, static_cast<std::size_t>(count) + 1);
  for (int i = 0; i < count; ++i) ch.push(t0 + std::chrono::nanoseconds(i), i);
  ch.close();
  return ch;
}

// A live source whose next() is a task awaiting another source: the shape of every wrapping
// source (the NATS source, the Asio sources, user code).
template <class Source>
struct wrapped {
  Source inner;
  asp::task<std::optional<asp::event<int>>> next() { co_return co_await inner.next(); }
};

TEST_F(FlatStack, ChannelWithEveryEventQueued) {
  loop.run({}, asp::process_stream(add(), asp::none, filled_channel(loop, n)));
  EXPECT_EQ(sum, expected_sum);
  expect_flat();
}

TEST_F(FlatStack, TaskWrappingAChannel) {
  loop.run({}, asp::process_stream(add(), asp::none,
                                   wrapped<asp::channel<int>>{filled_channel(loop, n)}));
  EXPECT_EQ(sum, expected_sum);
  expect_flat();
}

TEST_F(FlatStack, TwoLevelsOfWrappingTasks) {
  using inner = wrapped<asp::channel<int>>;
  loop.run({},
           asp::process_stream(add(), asp::none, wrapped<inner>{inner{filled_channel(loop, n)}}));
  EXPECT_EQ(sum, expected_sum);
  expect_flat();
}

TEST_F(FlatStack, AnyLiveSourceOverAChannel) {
  loop.run({}, asp::process_stream(add(), asp::none,
                                   asp::any_live_source<asp::event<int>>(filled_channel(loop, n))));
  EXPECT_EQ(sum, expected_sum);
  expect_flat();
}

asp::async_generator<asp::event<int>> counting(int count) {
  for (int i = 0; i < count; ++i) {
    asp::event<int> e{t0 + std::chrono::nanoseconds(i), i};
    co_yield e;
  }
}

TEST_F(FlatStack, AsyncGeneratorThatNeverSuspends) {
  loop.run({}, asp::process_stream(add(), asp::none, counting(n)));
  EXPECT_EQ(sum, expected_sum);
  expect_flat();
}

// An async generator whose body awaits a wrapping task (over a channel) for every value.
asp::async_generator<asp::event<int>> relaying(wrapped<asp::channel<int>> source) {
  while (std::optional<asp::event<int>> e = co_await source.next()) co_yield *e;
}

TEST_F(FlatStack, AsyncGeneratorAwaitingAWrappingTask) {
  loop.run({}, asp::process_stream(add(), asp::none,
                                   relaying(wrapped<asp::channel<int>>{filled_channel(loop, n)})));
  EXPECT_EQ(sum, expected_sum);
  expect_flat();
}

TEST_F(FlatStack, AsyncGeneratorOverAnAsyncGenerator) {
  auto outer =
      [](asp::async_generator<asp::event<int>> inner) -> asp::async_generator<asp::event<int>> {
    while (std::optional<asp::event<int>> e = co_await inner.next()) co_yield *e;
  };
  loop.run({}, asp::process_stream(add(), asp::none, outer(counting(n))));
  EXPECT_EQ(sum, expected_sum);
  expect_flat();
}

// Past sources that are coroutines: a synchronous generator reading another.
asp::generator<asp::event<int>> past_counting(int count) {
  for (int i = 0; i < count; ++i) {
    asp::event<int> e{t0 + std::chrono::nanoseconds(i), i};
    co_yield e;
  }
}

asp::generator<asp::event<int>> past_relaying(asp::generator<asp::event<int>> inner) {
  for (asp::event<int>& e : inner) co_yield e;
}

TEST_F(FlatStack, GeneratorChainAsThePast) {
  loop.run({}, asp::process_stream(add(), past_relaying(past_relaying(past_counting(n)))));
  EXPECT_EQ(sum, expected_sum);
  expect_flat();
}

// A coroutine callback that never suspends, on the replay path and on the live path.
TEST_F(FlatStack, CoroutineCallbackThatNeverSuspendsOverThePast) {
  auto callback = [this](asp::time_point, int v) -> asp::task<void> {
    sum += v;
    probe();
    co_return;
  };
  loop.run({}, asp::process_stream(callback, past_counting(n)));
  EXPECT_EQ(sum, expected_sum);
  expect_flat();
}

TEST_F(FlatStack, CoroutineCallbackThatNeverSuspendsOverAWrappingSource) {
  auto callback = [this](asp::time_point, int v) -> asp::task<void> {
    sum += v;
    probe();
    co_return;
  };
  loop.run({}, asp::process_stream(callback, asp::none,
                                   wrapped<asp::channel<int>>{filled_channel(loop, n)}));
  EXPECT_EQ(sum, expected_sum);
  expect_flat();
}

// Awaiting, in a loop, tasks that return at once; and tasks that await such tasks.
asp::task<int> value_of(int i) {
  co_return i;
}

asp::task<int> value_through(int i) {
  co_return co_await value_of(i);
}

TEST_F(FlatStack, TaskAwaitingTasksThatReturnAtOnce) {
  auto body = [this]() -> asp::task<std::int64_t> {
    std::int64_t total = 0;
    for (int i = 0; i < n; ++i) {
      total += co_await value_through(i);
      probe();
    }
    co_return total;
  };
  EXPECT_EQ(loop.run(body()), expected_sum);
  expect_flat();
}

// Awaiting what always suspends (a sleep of zero, a join of a task that has not run yet) goes
// through the loop's queue and nests nothing either; a join of a finished task is ready.
TEST_F(FlatStack, SleepsOfZero) {
  auto body = [this]() -> asp::task<std::int64_t> {
    const asp::time_point start = asp::now();
    std::int64_t total = 0;
    for (int i = 0; i < n; ++i) {
      co_await asp::sleep(0s);
      total += i;
      probe();
    }
    EXPECT_EQ(asp::now(), start);
    co_return total;
  };
  EXPECT_EQ(loop.run(body(), {.start = t0}), expected_sum);
  EXPECT_EQ(loop.now(), t0);
  expect_flat();
}

TEST_F(FlatStack, JoinsOfSpawnedTasks) {
  constexpr int joins = 100'000;
  auto body = [this]() -> asp::task<std::int64_t> {
    std::int64_t total = 0;
    for (int i = 0; i < joins; ++i) {
      asp::join_handle<int> pending = asp::spawn(value_of(i));
      total += co_await pending;  // suspends: the task starts after the work due now
      total += co_await pending;  // ready: the task has finished
      probe();
    }
    co_return total;
  };
  EXPECT_EQ(loop.run(body(), {.start = t0}), std::int64_t{joins} * (joins - 1));
  EXPECT_EQ(loop.now(), t0);
  expect_flat(joins);
}

TEST_F(FlatStack, TimerTicksAlreadyDueWithACoroutineCallback) {
  auto tick = [this](asp::time_point t) -> asp::task<void> {
    sum += (t - t0).count();
    probe();
    co_return;
  };
  loop.run({.start = t0}, asp::timer(1ns, tick, t0, t0 + std::chrono::nanoseconds(n)));
  EXPECT_EQ(sum, expected_sum);
  expect_flat();
}

}  // namespace

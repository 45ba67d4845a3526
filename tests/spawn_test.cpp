// Spawned tasks and their join handles: joins, failures, cancellation, detaching.
#include <asp/spawn.hpp>

#include <asp/asp.hpp>

#include <gtest/gtest.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace asp::testing;

struct Spawn : ::testing::Test, manual_loop {};

asp::task<int> value_after(asp::duration delay, int value) {
  co_await asp::sleep(delay);
  co_return value;
}

TEST_F(Spawn, SpawnAndJoin) {
  auto worker = [](int n) -> asp::task<int> {
    co_await asp::sleep(std::chrono::seconds(n));
    co_return n * 10;
  };
  auto main_task = [&]() -> asp::task<std::vector<double>> {
    auto a = asp::spawn(worker(3), "a");
    auto b = asp::spawn(worker(1), "b");
    std::vector<double> out;
    out.push_back(co_await a);
    out.push_back(secs(asp::now()));
    out.push_back(co_await b);  // already finished: no suspension
    out.push_back(secs(asp::now()));
    co_return out;
  };
  EXPECT_EQ(loop.run(main_task(), {.start = t0}), (std::vector<double>{30, 3, 10, 3}));
}

TEST_F(Spawn, JoinRethrowsTheTaskException) {
  auto failing = []() -> asp::task<int> {
    co_await asp::sleep(1s);
    throw std::runtime_error("failed");
  };
  auto main_task = [&]() -> asp::task<std::string> {
    auto h = asp::spawn(failing());
    try {
      co_await h;
    } catch (const std::runtime_error& e) {
      co_return e.what();
    }
    co_return "";
  };
  EXPECT_EQ(loop.run(main_task()), "failed");
}

TEST_F(Spawn, CancelDestroysTheFramesAndTheJoinerSeesCancelled) {
  int alive = 0;
  auto sleeper = [&]() -> asp::task<int> {
    lifetime_counter c(alive);
    co_await asp::sleep(1h);
    co_return 1;
  };
  std::vector<std::string> log;
  auto main_task = [&]() -> asp::task<void> {
    auto h = asp::spawn(sleeper(), "sleeper");
    // The lambda must outlive its task: its frame refers to the captures.
    auto cancel_later = [&]() -> asp::task<void> {
      co_await asp::sleep(5s);
      log.push_back("alive before cancel: " + std::to_string(alive));
      EXPECT_TRUE(h.cancel());
      EXPECT_FALSE(h.cancel());
      log.push_back("alive after cancel: " + std::to_string(alive));
    };
    auto canceller = asp::spawn(cancel_later());
    try {
      co_await h;
    } catch (const asp::cancelled&) {
      log.push_back("joiner saw cancelled at " + std::to_string(secs(asp::now())));
    }
    co_await canceller;
  };
  loop.run(main_task(), {.start = t0});
  EXPECT_EQ(log, (std::vector<std::string>{"alive before cancel: 1", "alive after cancel: 0",
                                           "joiner saw cancelled at 5.000000"}));
  EXPECT_EQ(loop.now(), t0 + 5s);  // the cancelled hour-long sleep did not hold the run
}

TEST_F(Spawn, DetachedTaskFailureFailsTheRun) {
  auto failing = []() -> asp::task<void> {
    co_await asp::sleep(1s);
    throw std::runtime_error("detached failure");
  };
  asp::spawn(loop, failing(), "background").detach();
  EXPECT_THROW(loop.run(), asp::run_error);
}

TEST_F(Spawn, DroppingAHandleWithAnUnobservedFailureFailsTheRun) {
  auto failing = []() -> asp::task<void> {
    throw std::runtime_error("nobody looked");
    co_return;
  };
  auto main_task = [&]() -> asp::task<void> {
    {
      auto h = asp::spawn(failing(), "ignored");
      co_await asp::sleep(1s);
    }
    co_await asp::sleep(1s);
  };
  const asp::run_error e = run_error_of([&] { loop.run(main_task(), {.start = t0}); });
  EXPECT_EQ(e.where(), "task 'ignored'");
  EXPECT_EQ(e.at(), t0 + 1s);
}

TEST_F(Spawn, RunEndingBeforeMainFinishesIsAnError) {
  auto forever = []() -> asp::task<void> { co_await asp::sleep(1h); };
  EXPECT_THROW(loop.run(forever(), {.start = t0, .end = t0 + 1s}), std::runtime_error);
}

TEST_F(Spawn, ResultOfAFinishedTask) {
  auto h = asp::spawn(loop, []() -> asp::task<int> { co_return 5; }());
  EXPECT_THROW(h.result(), std::logic_error);
  loop.run();
  ASSERT_TRUE(h.done());
  EXPECT_EQ(h.result(), 5);
}

TEST_F(Spawn, AJoinerFollowsTheTaskNotTheHandleObject) {
  int got = 0;
  asp::join_handle<int> h = asp::spawn(loop, value_after(1s, 1));
  auto joiner = [&]() -> asp::task<void> { got = co_await h; };
  asp::spawn(loop, joiner(), "joiner").detach();
  loop.call_at(t0 + 500ms, [&] { h = asp::spawn(loop, value_after(10s, 2)); });
  loop.run({.start = t0});
  EXPECT_EQ(got, 1);
  ASSERT_TRUE(h.done());
  EXPECT_EQ(h.result(), 2);
}

TEST_F(Spawn, AJoinerWaitingOnADroppedHandleStillGetsTheValue) {
  std::vector<int> got;
  std::optional<asp::join_handle<int>> handle{asp::spawn(loop, value_after(2s, 7))};
  auto joiner = [&]() -> asp::task<void> { got.push_back(co_await *handle); };
  asp::spawn(loop, joiner(), "joiner").detach();
  loop.call_at(t0 + 1s, [&] { handle.reset(); });  // detaches while the joiner waits
  loop.run({.start = t0});
  EXPECT_EQ(got, (std::vector<int>{7}));
}

}  // namespace

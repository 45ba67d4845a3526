// The clock contract (docs/contract.md), rule by rule, on a manual clock: exact times, no sleeping.
#include <asp/loop.hpp>

#include <asp/asp.hpp>

#include <gtest/gtest.h>

#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace asp::testing;

// The real clock stands one day after t0, so work around t0 is history.
struct Loop : ::testing::Test {
  asp::manual_clock clock{t0 + 24h};
  asp::loop loop{clock};
  std::vector<std::pair<double, double>> seen;  // (seconds of the due time, seconds of now())

  auto record() {
    return [this](asp::time_point due) { seen.emplace_back(secs(due), secs(loop.now())); };
  }
};

TEST_F(Loop, C1_NowNeverDecreasesEvenWhenWorkIsDueInThePast) {
  loop.call_at(t0 + 10s, [&](asp::time_point) {
    seen.emplace_back(-1, secs(loop.now()));
    loop.call_at(t0 + 5s, record());  // due earlier than now()
    loop.call_at(t0 + 11s, record());
  });
  loop.run();
  EXPECT_EQ(seen, (std::vector<std::pair<double, double>>{{-1, 10}, {5, 10}, {11, 11}}));
}

TEST_F(Loop, C2_WorkRunsInDueTimeOrder) {
  loop.call_at(t0 + 3s, record());
  loop.call_at(t0 + 1s, record());
  loop.call_at(t0 + 2s, record());
  loop.run();
  EXPECT_EQ(seen, (std::vector<std::pair<double, double>>{{1, 1}, {2, 2}, {3, 3}}));
}

TEST_F(Loop, C2_EqualDueTimesRunInSchedulingOrder) {
  std::vector<int> order;
  for (int i = 0; i < 100; ++i) {
    loop.call_at(t0 + 1s, [&order, i] { order.push_back(i); });
  }
  loop.call_at(t0, [&] {
    // Scheduled later, due at the same time: after the hundred above.
    loop.call_at(t0 + 1s, [&order] { order.push_back(100); });
    loop.call_soon([&order] { order.push_back(-1); });
  });
  loop.run();
  ASSERT_EQ(order.size(), 102u);
  EXPECT_EQ(order[0], -1);
  for (int i = 0; i <= 100; ++i) EXPECT_EQ(order[static_cast<std::size_t>(i) + 1], i);
}

TEST_F(Loop, C2_CallSoonRunsAfterWorkAlreadyDueNow) {
  std::vector<std::string> order;
  loop.call_at(t0, [&] {
    loop.call_soon([&] { order.push_back("soon"); });
    order.push_back("first");
  });
  loop.call_at(t0, [&] { order.push_back("second"); });
  loop.run();
  EXPECT_EQ(order, (std::vector<std::string>{"first", "second", "soon"}));
}

TEST_F(Loop, C3_NowIsTheDueTimeOfTheRunningWork) {
  for (int i = 0; i < 5; ++i) loop.call_at(t0 + std::chrono::milliseconds(250 * i), record());
  loop.run();
  EXPECT_EQ(seen, (std::vector<std::pair<double, double>>{
                      {0, 0}, {0.25, 0.25}, {0.5, 0.5}, {0.75, 0.75}, {1, 1}}));
}

TEST_F(Loop, C3_ComputingTimeDoesNotLeakIntoNow) {
  // Each callback "computes" for an hour of real time; virtual time only follows due times.
  for (int i = 0; i < 3; ++i) {
    loop.call_at(t0 + std::chrono::seconds(i), [&](asp::time_point due) {
      clock.advance(1h);
      seen.emplace_back(secs(due), secs(loop.now()));
    });
  }
  loop.run();
  EXPECT_EQ(seen, (std::vector<std::pair<double, double>>{{0, 0}, {1, 1}, {2, 2}}));
  EXPECT_EQ(loop.stats().waits, 0u);
}

TEST_F(Loop, C3_WithoutStartTheClockStartsAtTheEarliestWork) {
  loop.call_at(t0 + 7s, record());
  loop.call_at(t0 + 3s, record());
  asp::time_point first_now{};
  loop.call_soon([&] { first_now = loop.now(); });
  loop.run();
  EXPECT_EQ(first_now, t0 + 3s);
  EXPECT_EQ(seen, (std::vector<std::pair<double, double>>{{3, 3}, {7, 7}}));
}

TEST_F(Loop, C3_WithoutStartOrPastWorkTheClockStartsAtRealTime) {
  asp::time_point first_now{};
  loop.call_soon([&] { first_now = loop.now(); });
  loop.run();
  EXPECT_EQ(first_now, t0 + 24h);
}

TEST_F(Loop, C3_WorkDueBeforeTheStartRunsAtTheStartInItsOwnOrder) {
  loop.call_at(t0 + 2s, record());
  loop.call_at(t0 + 1s, record());
  loop.call_at(t0 + 12s, record());
  loop.run({.start = t0 + 10s});
  EXPECT_EQ(seen, (std::vector<std::pair<double, double>>{{1, 10}, {2, 10}, {12, 12}}));
}

TEST_F(Loop, C3_CallLaterBeforeTheRunCountsFromTheStart) {
  loop.call_later(5s, record());
  loop.call_soon(record());
  loop.run({.start = t0 + 100s});
  EXPECT_EQ(seen, (std::vector<std::pair<double, double>>{{100, 100}, {105, 105}}));
}

TEST_F(Loop, C4_AYearOfHourlyTimersReplaysWithoutWaiting) {
  clock.set(t0 + std::chrono::days(400));
  int fired = 0;
  asp::time_point last{};
  struct rearm {
    asp::loop* l;
    int* fired;
    asp::time_point* last;
    void operator()(asp::time_point due) const {
      ++*fired;
      *last = due;
      if (*fired < 365 * 24) l->call_later(1h, *this);
    }
  };
  loop.call_at(t0, rearm{&loop, &fired, &last});
  loop.run();
  EXPECT_EQ(fired, 8760);
  EXPECT_EQ(last, t0 + std::chrono::hours(8759));
  EXPECT_EQ(loop.now(), t0 + std::chrono::hours(8759));
  EXPECT_EQ(loop.stats().waits, 0u);
  EXPECT_EQ(clock.advances(), 0u);
  EXPECT_FALSE(loop.is_live());
}

TEST_F(Loop, C4_WorkAheadOfTheRealClockWaitsForIt) {
  const asp::time_point real = clock.now();
  loop.call_at(real + 2s, record());
  loop.run();
  EXPECT_EQ(loop.stats().waits, 1u);
  EXPECT_EQ(clock.advances(), 1u);
  EXPECT_EQ(clock.now(), real + 2s);
  EXPECT_EQ(seen, (std::vector<std::pair<double, double>>{{secs(real + 2s), secs(real + 2s)}}));
}

TEST_F(Loop, C4_ReplayThenLiveInTheSameRun) {
  const asp::time_point real = clock.now();
  std::vector<std::string> log;
  auto note = [&](std::string what) {
    return [&, what](asp::time_point due) {
      log.push_back(what + " due=" + std::to_string(secs(due) - secs(real)) +
                    " now=" + std::to_string(secs(loop.now()) - secs(real)));
    };
  };
  loop.call_at(real - 2s, note("past1"));
  loop.call_at(real - 1s, note("past2"));
  loop.call_at(real + 1s, note("live1"));
  loop.call_at(real + 3s, note("live2"));
  int live_calls = 0;
  loop.run({.on_live = [&](asp::time_point at) {
    ++live_calls;
    log.push_back("** live ** now=" + std::to_string(secs(at) - secs(real)));
  }});
  EXPECT_EQ(live_calls, 1);
  EXPECT_TRUE(loop.is_live());
  EXPECT_EQ(log, (std::vector<std::string>{
                     "past1 due=-2.000000 now=-2.000000", "past2 due=-1.000000 now=-1.000000",
                     "** live ** now=0.000000", "live1 due=1.000000 now=1.000000",
                     "live2 due=3.000000 now=3.000000"}));
  EXPECT_EQ(clock.advances(), 2u);
}

TEST_F(Loop, C5_TimerScheduledInReplayFiresBeforeLaterLiveInput) {
  const asp::time_point real = clock.now();
  std::vector<std::string> log;
  // A past event schedules a greeting that is due before the live input arrives.
  loop.call_at(real - 2s, [&](asp::time_point due) {
    log.push_back("past event");
    loop.call_at(due + 1500ms, [&] { log.push_back("greeting (replay timer)"); });
  });
  loop.post([&] { log.push_back("live input"); });  // stamped at the real time
  loop.run();
  EXPECT_EQ(log, (std::vector<std::string>{"past event", "greeting (replay timer)", "live input"}));
}

TEST_F(Loop, C6_PostedWorkIsDueAtItsStamp) {
  const asp::time_point real = clock.now();
  std::vector<std::pair<double, double>> got;
  loop.call_at(real + 5s, [&] {
    // Input stamped earlier than now(): runs at now(), and receives its own time.
    loop.post_at(real + 1s, [&](asp::time_point stamp) {
      got.emplace_back(secs(stamp) - secs(real), secs(loop.now()) - secs(real));
    });
    loop.post_at(real + 9s, [&](asp::time_point stamp) {
      got.emplace_back(secs(stamp) - secs(real), secs(loop.now()) - secs(real));
    });
  });
  loop.call_at(real + 7s, [&](asp::time_point due) {
    got.emplace_back(secs(due) - secs(real), secs(loop.now()) - secs(real));
  });
  loop.run();
  EXPECT_EQ(got, (std::vector<std::pair<double, double>>{{1, 5}, {7, 7}, {9, 9}}));
}

TEST_F(Loop, C8_CallbacksReceiveTheScheduledTimeFirst) {
  std::vector<std::string> got;
  loop.call_at(
      t0 + 1s,
      [&](asp::time_point t, std::string name, int n) {
        got.push_back(asp::to_string(t) + " " + name + " " + std::to_string(n));
      },
      std::string("Jane"), 3);
  loop.call_at(
      t0 + 2s, [&](std::string name) { got.push_back("no time: " + name); }, std::string("John"));
  loop.run();
  EXPECT_EQ(got,
            (std::vector<std::string>{"2025-01-01T00:00:01.000000000Z Jane 3", "no time: John"}));
}

TEST_F(Loop, C8_CoroutineCallbacksAreAcceptedAndRunAsTasks) {
  std::vector<std::pair<double, double>> got;
  loop.call_at(t0 + 1s, [&](asp::time_point t) -> asp::task<void> {
    got.emplace_back(secs(t), secs(asp::now()));
    co_await asp::sleep(5s);
    got.emplace_back(secs(t), secs(asp::now()));
  });
  loop.run();
  EXPECT_EQ(got, (std::vector<std::pair<double, double>>{{1, 1}, {1, 6}}));
}

TEST_F(Loop, NestedSchedulingFromCallbacks) {
  std::vector<std::pair<double, double>> got;
  loop.call_at(t0, [&] {
    loop.call_later(2s, [&](asp::time_point t) {
      got.emplace_back(secs(t), secs(loop.now()));
      loop.call_later(1s, [&](asp::time_point u) { got.emplace_back(secs(u), secs(loop.now())); });
    });
    loop.call_later(1s, [&](asp::time_point t) { got.emplace_back(secs(t), secs(loop.now())); });
  });
  loop.run();
  EXPECT_EQ(got, (std::vector<std::pair<double, double>>{{1, 1}, {2, 2}, {3, 3}}));
}

TEST_F(Loop, RunUntilEndLeavesLaterWorkForTheNextRun) {
  loop.call_at(t0 + 1s, record());
  loop.call_at(t0 + 5s, record());
  loop.run({.end = t0 + 3s});
  EXPECT_EQ(seen, (std::vector<std::pair<double, double>>{{1, 1}}));
  EXPECT_EQ(loop.now(), t0 + 3s);
  loop.run();
  EXPECT_EQ(seen, (std::vector<std::pair<double, double>>{{1, 1}, {5, 5}}));
}

TEST_F(Loop, StopFromACallbackLeavesTheRestPending) {
  loop.call_at(t0 + 1s, [&](asp::time_point due) {
    record()(due);
    loop.stop();
  });
  loop.call_at(t0 + 2s, record());
  loop.run();
  EXPECT_EQ(seen, (std::vector<std::pair<double, double>>{{1, 1}}));
  loop.run();
  EXPECT_EQ(seen, (std::vector<std::pair<double, double>>{{1, 1}, {2, 2}}));
}

TEST_F(Loop, OnStopRunsOnceWhenAStopEndsTheRunAndItsWorkWaitsForTheNextRun) {
  std::vector<std::string> log;
  loop.set_on_stop([&] {
    log.push_back("on_stop at " + std::to_string((asp::now() - t0) / 1s));
    loop.call_soon([&] { log.push_back("scheduled by on_stop"); });
  });
  loop.call_at(t0 + 1s, [&] {
    log.push_back("stop");
    loop.stop();
  });
  loop.call_at(t0 + 2s, [&] { log.push_back("later"); });
  loop.run();
  EXPECT_EQ(log, (std::vector<std::string>{"stop", "on_stop at 1"}));
  loop.run();  // ends with nothing left: no stop, no on_stop
  EXPECT_EQ(log,
            (std::vector<std::string>{"stop", "on_stop at 1", "scheduled by on_stop", "later"}));
}

TEST_F(Loop, OnStopIsNotCalledForAFailedRunAndItsOwnFailureNamesIt) {
  int calls = 0;
  loop.set_on_stop([&] { ++calls; });
  loop.call_at(t0 + 1s, [] { throw std::domain_error("boom"); });
  EXPECT_THROW(loop.run(), asp::run_error);
  EXPECT_EQ(calls, 0);

  loop.set_on_stop([] { throw std::domain_error("cannot close"); });
  loop.call_at(t0 + 2s, [&] { loop.stop(); });
  const asp::run_error e = run_error_of([&] { loop.run(); });
  EXPECT_EQ(std::string(e.what()),
            "asp: on_stop, at virtual time 2025-01-01T00:00:02.000000000Z: cannot close");
}

struct failing_callback {
  void operator()() const { throw std::domain_error("boom"); }
};

TEST_F(Loop, ExceptionInACallbackStopsTheRunWithContext) {
  int alive = 0;
  int later_ran = 0;
  loop.call_at(t0 + 1s, failing_callback{});
  loop.call_at(t0 + 2s, [&later_ran, c = lifetime_counter(alive)] { ++later_ran; });
  const asp::run_error e = run_error_of([&] { loop.run(); });
  EXPECT_EQ(std::string(e.what()),
            "asp: callback (anonymous namespace)::failing_callback due at "
            "2025-01-01T00:00:01.000000000Z, at virtual time 2025-01-01T00:00:01.000000000Z: boom");
  EXPECT_EQ(e.at(), t0 + 1s);
  EXPECT_THROW(e.rethrow_nested(), std::domain_error);
  EXPECT_EQ(later_ran, 0);
  EXPECT_EQ(alive, 0);  // pending work was destroyed
}

TEST_F(Loop, ExceptionInACoroutineNamesTheTaskAndDestroysEveryFrame) {
  int alive = 0;
  auto sleeper = [&]() -> asp::task<void> {
    lifetime_counter c(alive);
    co_await asp::sleep(1h);
  };
  auto failing = []() -> asp::task<void> {
    co_await asp::sleep(3s);
    throw std::runtime_error("worker broke");
  };
  asp::spawn(loop, sleeper(), "sleeper").detach();
  asp::spawn(loop, failing(), "worker").detach();
  const asp::run_error e = run_error_of([&] { loop.run({.start = t0}); });
  EXPECT_EQ(std::string(e.what()),
            "asp: task 'worker', at virtual time 2025-01-01T00:00:03.000000000Z: worker broke");
  EXPECT_EQ(e.where(), "task 'worker'");
  EXPECT_EQ(alive, 0);
}

TEST_F(Loop, OnLiveMayBeACoroutineFunctionAndRunsAsATask) {
  const asp::time_point real = clock.now();
  std::vector<double> got;
  loop.call_at(real + 5s, [&] { got.push_back(secs(loop.now()) - secs(real)); });
  loop.run({.on_live = [&](asp::time_point at) -> asp::task<void> {
    got.push_back(secs(at) - secs(real));
    co_await asp::sleep(2s);
    got.push_back(secs(asp::now()) - secs(real));
  }});
  EXPECT_EQ(got, (std::vector<double>{0, 2, 5}));
  EXPECT_EQ(clock.advances(), 2u);  // to +2 s for the task, then to +5 s: never past the task
}

TEST_F(Loop, ExceptionInOnLiveStopsTheRun) {
  loop.call_at(clock.now() + 1s, [] {});
  EXPECT_THROW(loop.run({.on_live = [](asp::time_point) { throw std::runtime_error("x"); }}),
               asp::run_error);
}

TEST_F(Loop, FreeFunctionsActOnTheRunningLoop) {
  EXPECT_THROW(asp::now(), std::logic_error);
  std::vector<std::pair<double, double>> got;
  loop.call_at(t0, [&] {
    EXPECT_EQ(asp::loop::current(), &loop);
    asp::call_later(2s, [&](asp::time_point t) { got.emplace_back(secs(t), secs(asp::now())); });
    asp::call_at(t0 + 1s, [&](asp::time_point t) { got.emplace_back(secs(t), secs(asp::now())); });
    asp::call_soon([&](asp::time_point t) { got.emplace_back(secs(t), secs(asp::now())); });
  });
  loop.run();
  EXPECT_EQ(got, (std::vector<std::pair<double, double>>{{0, 0}, {1, 1}, {2, 2}}));
  EXPECT_EQ(asp::loop::current(), nullptr);
}

TEST_F(Loop, LargeCallablesAreStoredOutOfLine) {
  std::array<long, 32> big{};
  big[31] = 7;
  long got = 0;
  loop.call_at(t0, [&got, big] { got = big[31]; });
  loop.run();
  EXPECT_EQ(got, 7);
}

// --- Posts and coroutine callbacks in busy schedules (once defects: they ran late) ---

TEST_F(Loop, C6_WorkPostedFromTheLoopWithItsOwnTimeRunsAtThatTimeDuringReplay) {
  std::vector<std::string> order;
  loop.call_at(t0 + 1s, [&] {
    order.push_back("X");
    loop.post_at(t0 + 1500ms, [&](asp::time_point stamp) {
      order.push_back("P due " + std::to_string(secs(stamp)) + " now " +
                      std::to_string(secs(loop.now())));
    });
  });
  loop.call_at(t0 + 2s, [&] { order.push_back("Y"); });
  loop.run();
  EXPECT_EQ(order, (std::vector<std::string>{"X", "P due 1.500000 now 1.500000", "Y"}));
}

TEST_F(Loop, C6_WorkPostedFromTheLoopStampedInThePastRunsNext) {
  std::vector<std::string> order;
  loop.call_at(t0 + 10s, [&] {
    order.push_back("at 10");
    loop.post_at(t0 + 4s, [&](asp::time_point stamp) {
      order.push_back("posted " + std::to_string(secs(stamp)) + " at " +
                      std::to_string(secs(loop.now())));
    });
  });
  loop.call_at(t0 + 10s, [&] { order.push_back("also at 10"); });
  loop.call_at(t0 + 11s, [&] { order.push_back("at 11"); });
  loop.run();
  EXPECT_EQ(order, (std::vector<std::string>{"at 10", "posted 4.000000 at 10.000000", "also at 10",
                                             "at 11"}));
}

TEST_F(Loop, C3_WorkPostedBeforeTheRunIsKnownWorkAndCountsForTheStart) {
  std::vector<std::pair<double, double>> got;
  loop.post_at(t0 + 2s,
               [&](asp::time_point stamp) { got.emplace_back(secs(stamp), secs(loop.now())); });
  loop.call_at(t0 + 5s, record());
  loop.run();
  got.insert(got.end(), seen.begin(), seen.end());
  EXPECT_EQ(got, (std::vector<std::pair<double, double>>{{2, 2}, {5, 5}}));
}

TEST_F(Loop, C2_CoroutineCallbackStartsInItsOwnSlot) {
  std::vector<std::string> order;
  loop.call_at(t0 + 1s, [&](asp::time_point) -> asp::task<void> {
    order.push_back("coroutine");
    co_return;
  });
  loop.call_at(t0 + 1s, [&] { order.push_back("plain"); });
  loop.run();
  EXPECT_EQ(order, (std::vector<std::string>{"coroutine", "plain"}));
}

TEST_F(Loop, C5_CoroutineCallbackDueInThePastRunsBeforeWorkDueLater) {
  std::vector<std::string> order;
  loop.call_at(t0 + 10s, [&] {
    order.push_back("at 10");
    loop.call_at(t0 + 3s, [&](asp::time_point due) -> asp::task<void> {
      order.push_back("coroutine due " + std::to_string(secs(due)));
      co_await asp::sleep(0s);
      order.push_back("coroutine resumed at " + std::to_string(secs(loop.now())));
    });
  });
  loop.call_at(t0 + 10s, [&] { order.push_back("W at 10"); });
  loop.run();
  EXPECT_EQ(order, (std::vector<std::string>{"at 10", "coroutine due 3.000000", "W at 10",
                                             "coroutine resumed at 10.000000"}));
}

TEST_F(Loop, C2_CoroutinesGivenToEveryEntryPointStartInTheirSlot) {
  std::vector<std::string> order;
  auto coroutine = [&](std::string name) {
    return [&order, name]() -> asp::task<void> {
      order.push_back(name);
      co_return;
    };
  };
  loop.call_at(t0, [&] {
    loop.call_soon(coroutine("call_soon"));
    loop.call_later(0s, coroutine("call_later"));
    loop.call_at(t0, coroutine("call_at"));
    loop.post(coroutine("post"));  // due at the real time, a day later
    loop.post_at(t0, coroutine("post_at"));
    loop.call_soon([&] { order.push_back("plain"); });
  });
  loop.run();
  EXPECT_EQ(order, (std::vector<std::string>{"call_soon", "call_later", "call_at", "post_at",
                                             "plain", "post"}));
}

// --- Delays that mean "never" ---

TEST_F(Loop, CallLaterOfTheLongestDelayNeverFiresDuringTheRun) {
  bool fired = false;
  loop.call_at(t0, [&] { loop.call_later(asp::duration::max(), [&] { fired = true; }); });
  loop.call_at(t0 + 1s, record());
  loop.run({.end = t0 + 48h});
  EXPECT_FALSE(fired);
  EXPECT_EQ(seen, (std::vector<std::pair<double, double>>{{1, 1}}));
}

TEST_F(Loop, CallLaterOfTheLongestDelayBeforeTheRunNeverFires) {
  bool fired = false;
  asp::timer_handle never = loop.call_later(asp::duration::max(), [&] { fired = true; });
  loop.call_at(t0 + 1s, record());
  loop.run({.end = t0 + 48h});
  EXPECT_FALSE(fired);
  EXPECT_TRUE(never.pending());
  EXPECT_TRUE(never.cancel());
}

TEST_F(Loop, NegativeDelaysSaturateIntoThePastAndRunNext) {
  loop.call_at(t0 + 5s, [&] { loop.call_later(asp::duration::min(), record()); });
  loop.call_at(t0 + 6s, record());
  loop.run();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].second, 5);
  EXPECT_EQ(seen[1], (std::pair<double, double>{6, 6}));
}

// --- What source authors use (docs/concepts.md, "Writing a source") ---

TEST_F(Loop, CurrentDueIsTheRunningWorksDueTimeWhenNowIsLater) {
  std::vector<std::pair<double, double>> seen_due;  // (current_due(), now())
  loop.call_at(t0 + 10s, [&] {
    seen_due.emplace_back(secs(loop.current_due()), secs(loop.now()));
    loop.call_at(t0 + 5s,
                 [&] { seen_due.emplace_back(secs(loop.current_due()), secs(loop.now())); });
  });
  loop.run();
  EXPECT_EQ(seen_due, (std::vector<std::pair<double, double>>{{10, 10}, {5, 10}}));
}

TEST_F(Loop, FailRunFailsTheRunWithItsContextAndTheFirstFailureCounts) {
  int later_ran = 0;
  loop.call_at(t0 + 3s, [&] {
    loop.fail_run(std::make_exception_ptr(std::domain_error("refused")), "sink 'orders'");
    loop.fail_run(std::make_exception_ptr(std::runtime_error("second")), "sink 'other'");
  });
  loop.call_at(t0 + 3s, [&] { ++later_ran; });
  const asp::run_error e = run_error_of([&] { loop.run(); });
  EXPECT_EQ(std::string(e.what()),
            "asp: sink 'orders', at virtual time 2025-01-01T00:00:03.000000000Z: refused");
  EXPECT_EQ(e.where(), "sink 'orders'");
  EXPECT_EQ(e.at(), t0 + 3s);
  EXPECT_THROW(e.rethrow_nested(), std::domain_error);
  EXPECT_EQ(later_ran, 0);  // the run stopped before its next piece of work
}

TEST_F(Loop, FailRunWithoutAnExceptionStillFailsTheRun) {
  loop.call_at(t0 + 2s, [&] { loop.fail_run(nullptr, "sink 'orders'"); });
  const asp::run_error e = run_error_of([&] { loop.run(); });
  EXPECT_EQ(
      std::string(e.what()),
      "asp: sink 'orders', at virtual time 2025-01-01T00:00:02.000000000Z: asp::loop::fail_run "
      "was given no exception");
  EXPECT_THROW(e.rethrow_nested(), std::invalid_argument);
}

struct binding_callable {};

TEST_F(Loop, StartInSlotRunsTheTaskToItsFirstSuspensionInTheRunningWorksSlot) {
  std::vector<std::string> order;
  auto body = [&]() -> asp::task<void> {
    order.push_back("started at " + std::to_string(secs(loop.now())));
    co_await asp::sleep(1s);
    order.push_back("resumed at " + std::to_string(secs(loop.now())));
  };
  loop.call_at(t0 + 1s, [&] {
    loop.start_in_slot(body(), typeid(binding_callable));
    order.push_back("after start_in_slot");
  });
  loop.call_at(t0 + 1s, [&] { order.push_back("next work"); });
  loop.run();
  EXPECT_EQ(order, (std::vector<std::string>{"started at 1.000000", "after start_in_slot",
                                             "next work", "resumed at 2.000000"}));
}

TEST_F(Loop, StartInSlotTasksFailTheRunNamingTheirSource) {
  loop.call_at(t0 + 1s, [&] {
    loop.start_in_slot(
        []() -> asp::task<void> {
          co_await asp::sleep(1s);
          throw std::domain_error("bad quote");
        }(),
        typeid(binding_callable));
  });
  const asp::run_error e = run_error_of([&] { loop.run(); });
  EXPECT_EQ(e.where(), "task returned by callback (anonymous namespace)::binding_callable");
  EXPECT_EQ(e.at(), t0 + 2s);
  EXPECT_THROW(e.rethrow_nested(), std::domain_error);
}

}  // namespace

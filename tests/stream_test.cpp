// Streams on the virtual clock (contract C3, C5, C6, C7, C8): exact order and times, manual clock.
#include <asp/stream.hpp>

#include <asp/asp.hpp>

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "timeline.hpp"

namespace {

using namespace asp::testing;

struct Stream : timeline {};

TEST_F(Stream, PastEventsRunAtTheirOwnTimesWithoutWaiting) {
  asp::start(loop,
             asp::process_stream([&](asp::time_point t, const std::string& name) { note(t, name); },
                                 names_from(real - 60s, {"Jane", "John", "Sarah"})))
      .detach();
  loop.run();
  EXPECT_EQ(log, (std::vector<std::string>{"-60000 -60000 Jane", "-59000 -59000 John",
                                           "-58000 -58000 Sarah"}));
  EXPECT_EQ(loop.stats().waits, 0u);
}

TEST_F(Stream, DecreasingTimestampFailsNamingStreamIndexAndTimesAfterDeliveringEarlierEvents) {
  std::vector<asp::event<int>> past{{t0 + 1s, 1}, {t0 + 2s, 2}, {t0 + 1500ms, 3}, {t0 + 3s, 4}};
  std::vector<int> got;
  asp::start(loop, asp::process_stream([&](asp::time_point, int v) { got.push_back(v); }, past,
                                       asp::none, {.name = "quotes"}))
      .detach();
  const asp::run_error e = run_error_of([&] { loop.run(); });
  EXPECT_EQ(std::string(e.what()),
            "asp: stream 'quotes', event #2 (2025-01-01T00:00:01.500000000Z), at virtual time "
            "2025-01-01T00:00:02.000000000Z: out of order: earlier than event #1 "
            "(2025-01-01T00:00:02.000000000Z)");
  EXPECT_THROW(e.rethrow_nested(), asp::input_error);
  EXPECT_EQ(got, (std::vector<int>{1, 2}));
}

TEST_F(Stream, OutOfOrderEventsCanBeClampedOrSkipped) {
  std::vector<asp::event<int>> past{{t0 + 1s, 1}, {t0 + 2s, 2}, {t0 + 1500ms, 3}, {t0 + 3s, 4}};
  std::vector<std::pair<double, int>> clamped, skipped;
  auto a = asp::start(
      loop, asp::process_stream([&](asp::time_point t, int v) { clamped.emplace_back(secs(t), v); },
                                past, asp::none, {.order = asp::out_of_order::clamp}));
  auto b = asp::start(
      loop, asp::process_stream([&](asp::time_point t, int v) { skipped.emplace_back(secs(t), v); },
                                past, asp::none, {.order = asp::out_of_order::skip}));
  loop.run();
  EXPECT_EQ(clamped, (std::vector<std::pair<double, int>>{{1, 1}, {2, 2}, {2, 3}, {3, 4}}));
  EXPECT_EQ(skipped, (std::vector<std::pair<double, int>>{{1, 1}, {2, 2}, {3, 4}}));
  EXPECT_EQ(a.stats().clamped, 1u);
  EXPECT_EQ(a.stats().delivered, 4u);
  EXPECT_EQ(b.stats().skipped, 1u);
  EXPECT_EQ(b.stats().delivered, 3u);
}

TEST_F(Stream, StreamsInterleaveChronologicallyWithTimersAndSleepers) {
  std::vector<std::string> order;
  auto cb = [&](std::string tag) {
    return
        [&order, tag](asp::time_point t) { order.push_back(tag + std::to_string(int(secs(t)))); };
  };
  asp::start(loop, asp::process_stream(
                       [&](asp::time_point t, int) { cb("a")(t); },
                       std::vector<asp::event<int>>{{t0 + 1s, 0}, {t0 + 2s, 0}, {t0 + 4s, 0}}))
      .detach();
  asp::start(loop, asp::process_stream([&](asp::time_point t, int) { cb("b")(t); },
                                       std::vector<asp::event<int>>{{t0 + 2s, 0}, {t0 + 3s, 0}}))
      .detach();
  loop.call_at(t0 + 3s, cb("timer"));
  auto sleeper = [&]() -> asp::task<void> {
    co_await asp::sleep_until(t0 + 2500ms);
    order.push_back("sleeper2.5");
  };
  asp::spawn(loop, sleeper()).detach();
  loop.run({.start = t0});
  // Ties go by sequence: b's first event (t=2) and the timer (t=3) were scheduled before the
  // run, a's second event (t=2) and b's second (t=3) only when their predecessors ran.
  EXPECT_EQ(order,
            (std::vector<std::string>{"a1", "b2", "a2", "sleeper2.5", "timer3", "b3", "a4"}));
}

// Streams that take turns keep their next events in an ordered ring of their own, beside the
// heap of timers: ties with timers still go by sequence, a timer set by a callback for the time
// of its stream's next event comes first, a far sleep stays out of the streams' way, and a
// cancelled stream's pending event is dropped (contract C2).
TEST_F(Stream, C2_StreamsTakingTurnsMergeExactlyWithTimersSleepsAndACancelledStream) {
  std::vector<std::string> order;
  auto events = [](std::vector<int> seconds) {
    std::vector<asp::event<int>> out;
    for (int s : seconds) out.push_back({t0 + std::chrono::seconds(s), s});
    return out;
  };
  auto far = [&]() -> asp::task<void> {
    co_await asp::sleep_until(t0 + 100s);
    order.push_back("sleep100");
  };
  asp::spawn(loop, far()).detach();
  loop.call_at(t0 + 5s, [&] { order.push_back("x5"); });  // before the run: a low sequence
  asp::stream_handle c;
  asp::start(loop, asp::process_stream(
                       [&](asp::time_point, int s) {
                         order.push_back("a" + std::to_string(s));
                         if (s == 4) loop.call_at(t0 + 7s, [&] { order.push_back("y7"); });
                       },
                       events({1, 4, 7})))
      .detach();
  asp::start(loop, asp::process_stream(
                       [&](asp::time_point, int s) {
                         order.push_back("b" + std::to_string(s));
                         if (s == 5) c.cancel();
                       },
                       events({2, 5, 8})))
      .detach();
  c = asp::start(loop, asp::process_stream([&](asp::time_point,
                                               int s) { order.push_back("c" + std::to_string(s)); },
                                           events({3, 6, 9})));
  loop.run({.start = t0});
  EXPECT_EQ(order, (std::vector<std::string>{"a1", "b2", "c3", "a4", "x5", "b5", "y7", "a7", "b8",
                                             "sleep100"}));
  EXPECT_EQ(c.stats().delivered, 1u);
}

TEST_F(Stream, PastStreamsPredatingTheStartKeepChronologicalOrderAcrossStreams) {
  // The trade-PnL shape: quotes and trades, all before the start.
  std::vector<std::pair<std::string, double>> got;  // (what, now() in seconds)
  std::vector<asp::event<std::string>> quotes{
      {t0 + 500ms, "bid"}, {t0 + 600ms, "ask"}, {t0 + 1300ms, "ask"}, {t0 + 1500ms, "bid"}};
  std::vector<asp::event<std::string>> trades{{t0 + 1s, "trade1"}, {t0 + 2s, "trade2"}};
  auto record = [&](asp::time_point t, const std::string& what) {
    got.emplace_back(what + "@" + std::to_string(secs(t)).substr(0, 3), secs(loop.now()));
  };
  asp::start(loop, asp::process_stream(record, quotes)).detach();
  loop.run({.start = t0 + 10s}, asp::process_stream(record, trades));
  EXPECT_EQ(got, (std::vector<std::pair<std::string, double>>{{"bid@0.5", 10},
                                                              {"ask@0.6", 10},
                                                              {"trade1@1.0", 10},
                                                              {"ask@1.3", 10},
                                                              {"bid@1.5", 10},
                                                              {"trade2@2.0", 10}}));
}

TEST_F(Stream, PastStreamsWithoutAStartTimeReplayInChronologicalOrderOnHistorysClock) {
  std::vector<std::pair<std::string, double>> got;  // (what, now() in seconds)
  std::vector<asp::event<std::string>> quotes{
      {t0 + 500ms, "bid"}, {t0 + 600ms, "ask"}, {t0 + 1300ms, "ask"}};
  std::vector<asp::event<std::string>> trades{{t0 + 1s, "trade1"}, {t0 + 2s, "trade2"}};
  auto record = [&](asp::time_point, const std::string& what) {
    got.emplace_back(what, secs(loop.now()));
  };
  asp::start(loop, asp::process_stream(record, quotes)).detach();
  loop.run({}, asp::process_stream(record, trades));
  EXPECT_EQ(got, (std::vector<std::pair<std::string, double>>{
                     {"bid", 0.5}, {"ask", 0.6}, {"trade1", 1}, {"ask", 1.3}, {"trade2", 2}}));
}

TEST_F(Stream, GeneratorFailureNamesTheStreamAndTheEventBeingRead) {
  auto broken = []() -> asp::generator<asp::event<int>> {
    asp::event<int> first{t0, 1};
    co_yield first;
    throw std::runtime_error("line 2: not a number");
  };
  asp::start(
      loop, asp::process_stream([](asp::time_point, int) {}, broken(), asp::none, {.name = "file"}))
      .detach();
  const asp::run_error e = run_error_of([&] { loop.run(); });
  EXPECT_EQ(e.where(), "stream 'file', event #1");
  EXPECT_EQ(std::string(e.what()),
            "asp: stream 'file', event #1, at virtual time 2025-01-01T00:00:00.000000000Z: line "
            "2: not a number");
}

TEST_F(Stream, WithoutAStartTheClockStartsAtTheEarliestFirstEvent) {
  std::vector<double> nows;
  auto record = [&](asp::time_point, int) { nows.push_back(secs(loop.now())); };
  asp::start(loop,
             asp::process_stream(record, std::vector<asp::event<int>>{{t0 + 5s, 0}, {t0 + 6s, 0}}))
      .detach();
  asp::start(loop, asp::process_stream(record, std::vector<asp::event<int>>{{t0 + 3s, 0}}))
      .detach();
  asp::time_point started{};
  loop.call_soon([&] { started = loop.now(); });
  loop.run();
  EXPECT_EQ(started, t0 + 3s);
  EXPECT_EQ(nows, (std::vector<double>{3, 5, 6}));
}

// The README's "Scheduling callbacks" scenario. The greeting of the last past arrival (John)
// is due 58 s ago, before the first live arrival, so it prints before it.
TEST_F(Stream, SchedulingCallbacksGreetingOfLastPastArrivalPrintsBeforeFirstLiveArrival) {
  std::set<std::string> greeted;
  auto greet = [&](asp::time_point t, const std::string& name) {
    note(t, greeted.insert(name).second ? "Hello " + name + "." : "Hello again " + name + "!");
  };
  auto greet_later = [&](asp::time_point t, const std::string& name) {
    note(t, name + " arrived.");
    asp::call_at(t + 1s, greet, name);
  };
  auto live = [](std::vector<std::string> names) -> asp::async_generator<asp::event<std::string>> {
    for (const std::string& name : names) {
      asp::event<std::string> arrival{asp::real_now(), name};
      co_yield arrival;
      co_await asp::sleep(1s);
    }
  };
  asp::start(loop,
             asp::process_stream(greet_later, names_from(real - 60s, {"Jane", "John"}),
                                 live({"Sarah", "Paul", "Jane"}),
                                 {.on_live_start = [&] { log.push_back("** Running live **"); }}))
      .detach();
  loop.run();
  EXPECT_EQ(log, (std::vector<std::string>{
                     "-60000 -60000 Jane arrived.",
                     "-59000 -59000 Hello Jane.",
                     "-59000 -59000 John arrived.",
                     "** Running live **",
                     "-58000 -58000 Hello John.",
                     "0 0 Sarah arrived.",
                     "1000 1000 Hello Sarah.",
                     "1000 1000 Paul arrived.",
                     "2000 2000 Hello Paul.",
                     "2000 2000 Jane arrived.",
                     "3000 3000 Hello again Jane!",
                 }));
}

TEST_F(Stream, OnStartAndOnLiveStartFireOnceInOrder) {
  asp::channel<std::string> live(loop);
  live.push("live");
  live.close();
  loop.run({}, asp::process_stream([&](asp::time_point t, const std::string& v) { note(t, v); },
                                   names_from(real - 2s, {"past"}), live,
                                   {.on_start = [&] { log.push_back("start"); },
                                    .on_live_start = [&] { log.push_back("live start"); }}));
  EXPECT_EQ(log, (std::vector<std::string>{"start", "-2000 -2000 past", "live start", "0 0 live"}));
}

TEST_F(Stream, OnStartAndOnLiveStartMayBeCoroutinesThatTheStreamAwaits) {
  asp::channel<std::string> live(loop);
  live.push("live");
  live.close();
  auto warm_up = [&]() -> asp::task<void> {
    log.push_back("warming up at " + rel(loop.now()));
    co_await asp::sleep(10s);
    log.push_back("warm at " + rel(loop.now()));
  };
  loop.run({}, asp::process_stream([&](asp::time_point t, const std::string& v) { note(t, v); },
                                   names_from(real - 30s, {"past"}), live,
                                   {.on_start = warm_up, .on_live_start = [&]() -> asp::task<void> {
                                      log.push_back("going live at " + rel(loop.now()));
                                      co_return;
                                    }}));
  EXPECT_EQ(
      log, (std::vector<std::string>{"warming up at -30000", "warm at -20000", "-20000 -30000 past",
                                     "going live at -20000", "0 0 live"}));
}

TEST_F(Stream, CoroutineCallbackDelaysItsStream) {
  auto slow = [&](asp::time_point t, const std::string& name) -> asp::task<void> {
    note(t, name + " arrived.");
    co_await asp::sleep(5s);
    note(t + 5s, "Hello " + name + ".");
  };
  loop.run({}, asp::process_stream(slow, names_from(real - 60s, {"Jane", "John"})));
  EXPECT_EQ(log,
            (std::vector<std::string>{"-60000 -60000 Jane arrived.", "-55000 -55000 Hello Jane.",
                                      "-55000 -59000 John arrived.", "-50000 -54000 Hello John."}));
}

// Parameters by value: a generator's frame must not refer to anything that dies before it.
asp::generator<asp::event<std::string>> orders_of(std::vector<asp::event<std::string>> orders,
                                                  std::string symbol, asp::time_point from) {
  for (const auto& o : orders) {
    if (o.value == symbol && o.time >= from) co_yield o;
  }
}

TEST_F(Stream, StreamsStartedFromACallbackJoinTheMerge) {
  std::vector<asp::event<std::string>> orders{
      {t0, "AAPL"}, {t0 + 1s, "FB"}, {t0 + 2s, "AAPL"}, {t0 + 3s, "FB"}};
  std::set<std::string> known;
  auto classify = [&](asp::time_point t, const std::string& symbol) {
    if (known.insert(symbol).second) {
      note(t, "New symbol detected: " + symbol);
      asp::start(
          asp::process_stream(
              [&, symbol](asp::time_point u, const std::string&) { note(u, symbol + " order"); },
              orders_of(orders, symbol, t)))
          .detach();
    }
  };
  real = t0;
  loop.run({}, asp::process_stream(classify, orders));
  EXPECT_EQ(log,
            (std::vector<std::string>{"0 0 New symbol detected: AAPL", "0 0 AAPL order",
                                      "1000 1000 New symbol detected: FB", "1000 1000 FB order",
                                      "2000 2000 AAPL order", "3000 3000 FB order"}));
}

TEST_F(Stream, InfiniteGeneratorIsCutOffByTheRunEnd) {
  auto ticks = []() -> asp::generator<asp::event<int>> {
    for (int i = 0;; ++i) co_yield asp::event<int>{t0 + std::chrono::seconds(i), i};
  };
  std::vector<int> got;
  loop.run({.end = t0 + 4s},
           asp::process_stream([&](asp::time_point, int v) { got.push_back(v); }, ticks()));
  EXPECT_EQ(got, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(loop.now(), t0 + 4s);
}

TEST_F(Stream, CallbackExceptionNamesTheStreamAndEvent) {
  asp::start(
      loop, asp::process_stream(
                [](asp::time_point, int v) {
                  if (v == 2) throw std::runtime_error("bad value");
                },
                std::vector<asp::event<int>>{{t0, 1}, {t0 + 1s, 2}}, asp::none, {.name = "values"}))
      .detach();
  const asp::run_error e = run_error_of([&] { loop.run(); });
  EXPECT_EQ(e.where(), "stream 'values', event #1 (2025-01-01T00:00:01.000000000Z)");
  EXPECT_EQ(e.at(), t0 + 1s);
}

TEST_F(Stream, JoiningAStreamWaitsForItsLastEvent) {
  auto main_task = [&]() -> asp::task<double> {
    auto s = asp::start(asp::process_stream([](asp::time_point, int) {},
                                            std::vector<asp::event<int>>{{t0, 0}, {t0 + 9s, 0}}));
    co_await s;
    co_return secs(asp::now());
  };
  EXPECT_EQ(loop.run(main_task(), {.start = t0}), 9);
}

// --- Live input pushed during replay, first reads, hooks (once defects) ---

TEST_F(Stream, PastSourceFailingBeforeItsFirstEventFailsTheRunNamingTheStream) {
  auto unreadable = []() -> asp::generator<asp::event<int>> {
    throw std::runtime_error("cannot open file");
    co_return;
  };
  const asp::run_error e = run_error_of([&] {
    asp::run({.start = t0}, asp::process_stream([](asp::time_point, int) {}, unreadable(),
                                                asp::none, {.name = "csv"}));
  });
  EXPECT_EQ(e.where(), "stream 'csv', event #0");
  EXPECT_EQ(std::string(e.what()),
            "asp: stream 'csv', event #0, at virtual time 2025-01-01T00:00:00.000000000Z: cannot "
            "open file");
  EXPECT_THROW(e.rethrow_nested(), std::runtime_error);
}

TEST_F(Stream, OnStartFailureNamesTheHook) {
  asp::start(loop,
             asp::process_stream(
                 [](asp::time_point, int) {}, std::vector<asp::event<int>>{{t0, 1}}, asp::none,
                 {.name = "warm", .on_start = [] { throw std::runtime_error("no model"); }}))
      .detach();
  const asp::run_error e = run_error_of([&] { loop.run(); });
  EXPECT_EQ(e.where(), "stream 'warm', on_start");
}

TEST_F(Stream, OnLiveStartFailureNamesTheHook) {
  asp::channel<int> live(loop);
  live.close();
  asp::start(loop, asp::process_stream([](asp::time_point, int) {},
                                       std::vector<asp::event<int>>{{t0, 1}}, live,
                                       {.name = "feed",
                                        .on_live_start = []() -> asp::task<void> {
                                          co_await asp::sleep(1s);
                                          throw std::runtime_error("not subscribed");
                                        }}))
      .detach();
  const asp::run_error e = run_error_of([&] { loop.run(); });
  EXPECT_EQ(e.where(), "stream 'feed', on_live_start");
  EXPECT_EQ(e.at(), t0 + 1s);
}

TEST_F(Stream, C7_OnLiveStartFiresOnceForAStreamWithoutALiveSource) {
  int fired = 0;
  asp::start(loop, asp::process_stream([&](asp::time_point t, int) { note(t, "event"); },
                                       std::vector<asp::event<int>>{{real - 2s, 1}, {real - 1s, 2}},
                                       asp::none,
                                       {.on_live_start =
                                            [&] {
                                              ++fired;
                                              log.push_back("history done");
                                            }}))
      .detach();
  loop.run({}, asp::process_stream([&](asp::time_point t, int) { note(t, "other"); },
                                   std::vector<asp::event<int>>{{real - 1500ms, 1}}));
  EXPECT_EQ(fired, 1);
  EXPECT_EQ(log, (std::vector<std::string>{"-2000 -2000 event", "-1500 -1500 other",
                                           "-1000 -1000 event", "history done"}));
}

TEST_F(Stream, C7_OnLiveStartFiresForAStreamWithNeitherPastNorFuture) {
  int fired = 0;
  loop.run({}, asp::process_stream([](asp::time_point, int) {}, asp::none, asp::none,
                                   {.on_live_start = [&] { ++fired; }}));
  EXPECT_EQ(fired, 1);
}

}  // namespace

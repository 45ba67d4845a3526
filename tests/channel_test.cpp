// asp::channel: live input from threads, in its place in the order of work (DESIGN, clock contract
// contract C6).
#include <asp/channel.hpp>

#include <asp/asp.hpp>

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "timeline.hpp"

namespace {

using namespace asp::testing;

struct Channel : timeline {};

TEST_F(Channel, ChannelEventsPushedDuringReplayComeAfterPastEventsAndTimersInPushOrder) {
  asp::channel<std::string> live(loop);
  live.push("first live");  // stamped with the real clock: `real`
  live.push("second live");
  auto cb = [&](asp::time_point t, const std::string& what) {
    note(t, what);
    if (what.starts_with("past")) {
      asp::call_later(500ms, [&](asp::time_point due) { note(due, "timer"); });
      if (what == "past 2") live.push("pushed during replay");
    }
    if (what == "pushed during replay") live.close();
  };
  asp::start(loop,
             asp::process_stream(cb, names_from(real - 3s, {"past 0", "past 1", "past 2"}), live,
                                 {.on_live_start = [&] { log.push_back("** live **"); }}))
      .detach();
  loop.run();
  EXPECT_EQ(log, (std::vector<std::string>{
                     "-3000 -3000 past 0", "-2500 -2500 timer", "-2000 -2000 past 1",
                     "-1500 -1500 timer", "-1000 -1000 past 2", "** live **", "-500 -500 timer",
                     "0 0 first live", "0 0 second live", "0 0 pushed during replay"}));
  EXPECT_EQ(loop.stats().waits, 0u);
}

TEST_F(Channel, LiveEventStampedBeforeNowRunsAtNowAndReceivesItsOwnTime) {
  asp::channel<std::string> live(loop);
  loop.call_at(real + 5s, [&] {
    live.push(real + 2s, "late");
    live.push(real + 7s, "on time");
    live.close();
  });
  loop.run({}, asp::process_stream([&](asp::time_point t, const std::string& v) { note(t, v); },
                                   asp::none, live));
  EXPECT_EQ(log, (std::vector<std::string>{"5000 2000 late", "7000 7000 on time"}));
}

TEST_F(Channel, FullChannelFailsLoudlyWhenItsPolicyIsFail) {
  asp::channel<int> ch(loop, 2, asp::when_full::fail, "orders");
  ch.push(t0, 1);
  ch.push(t0, 2);
  try {
    ch.push(t0 + 1s, 3);
    FAIL() << "push did not throw";
  } catch (const asp::input_error& e) {
    EXPECT_EQ(std::string(e.what()),
              "asp: channel 'orders' is full (capacity 2): the event at "
              "2025-01-01T00:00:01.000000000Z was refused");
  }
  EXPECT_EQ(ch.size(), 2u);  // what was accepted is kept
  ch.close();
  EXPECT_THROW(ch.push(t0, 4), std::logic_error);
}

TEST_F(Channel, FullChannelBlocksTheProducerUntilTheLoopTakesAnEvent) {
  asp::channel<int> ch(loop, 1, asp::when_full::block);
  std::vector<int> got;
  std::thread producer([&] {
    for (int i = 0; i < 100; ++i) ch.push(real, i);
    ch.close();
  });
  asp::start(loop,
             asp::process_stream([&](asp::time_point, int v) { got.push_back(v); }, asp::none, ch))
      .detach();
  loop.run();
  producer.join();
  ASSERT_EQ(got.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(got[static_cast<std::size_t>(i)], i);
}

TEST_F(Channel, C6_ChannelEventPushedDuringReplayWithASourceTimeRunsAtThatTime) {
  asp::channel<std::string> live(loop);
  std::vector<asp::event<std::string>> a;
  for (int i = 1; i <= 5; ++i) a.push_back({t0 + std::chrono::seconds(i), "A" + std::to_string(i)});
  auto cb = [&](asp::time_point t, const std::string& v) {
    log.push_back(v + " at " + std::to_string(secs(t)) + " now " +
                  std::to_string(secs(loop.now())));
    if (v == "A2") live.push(t0 + 2500ms, "live");
    if (v == "A5") live.close();
  };
  asp::start(loop, asp::process_stream(cb, a, asp::none, {.name = "A"})).detach();
  loop.run({}, asp::process_stream(cb, asp::none, live, {.name = "B"}));
  EXPECT_EQ(log, (std::vector<std::string>{
                     "A1 at 1.000000 now 1.000000", "A2 at 2.000000 now 2.000000",
                     "live at 2.500000 now 2.500000", "A3 at 3.000000 now 3.000000",
                     "A4 at 4.000000 now 4.000000", "A5 at 5.000000 now 5.000000"}));
  EXPECT_EQ(loop.stats().waits, 0u);
}

TEST_F(Channel, C6_ChannelEventPushedWhileTheConsumerIsBusyStillTakesItsPlace) {
  // The consumer is in its own past when the event arrives, so it finds it buffered.
  asp::channel<std::string> live(loop);
  auto cb = [&](asp::time_point t, const std::string& v) {
    log.push_back(v + " at " + std::to_string(secs(t)));
    if (v == "A2") live.push(t0 + 2500ms, "live");
    if (v == "A5") live.close();
  };
  asp::start(loop, asp::process_stream(
                       cb,
                       std::vector<asp::event<std::string>>{
                           {t0 + 1s, "A1"}, {t0 + 2s, "A2"}, {t0 + 3s, "A3"}, {t0 + 5s, "A5"}}))
      .detach();
  loop.run({}, asp::process_stream(
                   cb, std::vector<asp::event<std::string>>{{t0 + 2100ms, "B past"}}, live));
  EXPECT_EQ(log,
            (std::vector<std::string>{"A1 at 1.000000", "A2 at 2.000000", "B past at 2.100000",
                                      "live at 2.500000", "A3 at 3.000000", "A5 at 5.000000"}));
}

TEST_F(Channel, C6_ChannelEventPushedFromAnotherThreadDuringReplayTakesItsPlaceBeforeLaterWork) {
  asp::channel<std::string> live(loop);
  auto cb = [&](asp::time_point t, const std::string& v) {
    log.push_back(v + " at " + std::to_string(secs(t)));
    if (v == "A2") {
      // Another thread pushes while the loop is busy replaying; the push completes first.
      std::thread producer([&] { live.push(t0 + 2500ms, "live"); });
      producer.join();
    }
    if (v == "A4") live.close();
  };
  asp::start(loop, asp::process_stream(
                       cb,
                       std::vector<asp::event<std::string>>{
                           {t0 + 1s, "A1"}, {t0 + 2s, "A2"}, {t0 + 3s, "A3"}, {t0 + 4s, "A4"}}))
      .detach();
  loop.run({}, asp::process_stream(cb, asp::none, live));
  EXPECT_EQ(log, (std::vector<std::string>{"A1 at 1.000000", "A2 at 2.000000", "live at 2.500000",
                                           "A3 at 3.000000", "A4 at 4.000000"}));
}

}  // namespace

// A JetStream subject as a stream: the history from a start, at its own times, then live, with
// no gap and no duplicate at the seam.

#include <asp/nats/source.hpp>
#include <asp/run.hpp>
#include <asp/testing/fixture.hpp>

#include "nats/nats_fixture.hpp"

#include <nats/nats.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace asp::testing;
using namespace std::chrono_literals;
namespace nats = asp::nats;

struct seen {
  std::uint64_t sequence;
  asp::time_point time;
  asp::time_point now;
  std::string value;
  std::string subject;
};

std::string subject_a(int) {
  return "trades.A";
}
std::string a_or_b(int i) {
  return i % 2 == 0 ? "trades.A" : "trades.B";
}

using NatsSource = nats_test;

TEST_F(NatsSource, ThePastIsTheHistoryAtItsOwnTimesAndABacktestEndsAfterIt) {
  nats::connection c = with_trades();
  publish_history(c, 0, 100, subject_a);
  manual_loop m;
  std::vector<seen> got;
  int live_started_after = -1;
  m.loop.run({},
             nats::process_subject<std::string>(
                 [&](asp::time_point t, const nats::message<std::string>& msg) {
                   got.push_back({msg.sequence, t, m.loop.now(), msg.value, msg.subject});
                 },
                 m.loop, c, {.stream = "TRADES", .subject = "trades.>", .follow_live = false},
                 {.on_live_start = [&] { live_started_after = static_cast<int>(got.size()); }}));
  ASSERT_EQ(got.size(), 100u);
  for (int i = 0; i < 100; ++i) {
    const seen& s = got[static_cast<std::size_t>(i)];
    EXPECT_EQ(s.sequence, static_cast<std::uint64_t>(i + 1));
    EXPECT_EQ(s.time, t0 + std::chrono::milliseconds(i));
    EXPECT_EQ(s.now, s.time) << "a past event runs at its own time";
    EXPECT_EQ(s.value, "v" + std::to_string(i));
    EXPECT_EQ(s.subject, "trades.A");
  }
  EXPECT_EQ(live_started_after, 100);
  EXPECT_EQ(m.loop.now(), t0 + 99ms);
}

// The first sequence at or after a time, among the messages the filter selects.
std::vector<std::uint64_t> replay_from(nats::connection& c, nats::start_position start,
                                       const std::string& subject,
                                       std::uint64_t* start_sequence = nullptr) {
  manual_loop m;
  std::vector<std::uint64_t> seqs;
  nats::subject_source<std::string> source(
      m.loop, c, {.stream = "TRADES", .subject = subject, .start = start, .follow_live = false});
  if (start_sequence) *start_sequence = source.start_sequence();
  m.loop.run({}, asp::process_stream(
                     [&](asp::time_point, const nats::message<std::string>& msg) {
                       seqs.push_back(msg.sequence);
                     },
                     source.past(), source.live()));
  return seqs;
}

TEST_F(NatsSource, AStartTimeFindsTheFirstMessageAtOrAfterItByBinarySearch) {
  nats::connection c = with_trades();
  publish_history(c, 0, 1000, a_or_b);  // message i: sequence i + 1, t0 + i ms
  std::uint64_t start = 0;
  // Exactly at message 500's time: it is the first.
  std::vector<std::uint64_t> seqs = replay_from(c, t0 + 500ms, "trades.A", &start);
  ASSERT_EQ(seqs.size(), 250u);
  EXPECT_EQ(seqs.front(), 501u);
  EXPECT_EQ(seqs.back(), 999u);
  EXPECT_EQ(start, 501u);
  // A nanosecond later: the next message on trades.A is message 502 (sequence 503).
  seqs = replay_from(c, t0 + 500ms + 1ns, "trades.A", &start);
  ASSERT_EQ(seqs.size(), 249u);
  EXPECT_EQ(seqs.front(), 503u);
  EXPECT_EQ(start, 503u);
  // On both subjects.
  seqs = replay_from(c, t0 + 500ms + 1ns, "trades.>");
  ASSERT_EQ(seqs.size(), 499u);
  EXPECT_EQ(seqs.front(), 502u);
  // Before everything: everything; after everything: nothing.
  EXPECT_EQ(replay_from(c, t0 - 1h, "trades.>").size(), 1000u);
  EXPECT_TRUE(replay_from(c, t0 + 1s, "trades.>", &start).empty());
  EXPECT_EQ(start, 1001u);
}

TEST_F(NatsSource, AStartSequenceStartsThere) {
  nats::connection c = with_trades();
  publish_history(c, 0, 100, a_or_b);
  std::vector<std::uint64_t> seqs = replay_from(c, nats::from_sequence{41}, "trades.>");
  ASSERT_EQ(seqs.size(), 60u);
  EXPECT_EQ(seqs.front(), 41u);
  EXPECT_EQ(seqs.back(), 100u);
  seqs = replay_from(c, nats::from_sequence{42}, "trades.A");
  ASSERT_EQ(seqs.size(), 29u);
  EXPECT_EQ(seqs.front(), 43u);
}

TEST_F(NatsSource, NewOnlySkipsTheHistoryAndFollowsWhatIsPublishedAfter) {
  nats::connection c = with_trades();
  publish_history(c, 0, 10, subject_a);
  manual_loop m;
  nats::subject_source<std::string> source(
      m.loop, c, {.stream = "TRADES", .subject = "trades.>", .start = nats::new_only});
  EXPECT_EQ(source.start_sequence(), 11u);
  std::vector<seen> got;
  bool live = false;
  m.loop.run({}, asp::process_stream(
                     [&](asp::time_point t, const nats::message<std::string>& msg) {
                       got.push_back({msg.sequence, t, m.loop.now(), msg.value, msg.subject});
                       if (got.size() == 5) source.close();
                     },
                     source.past(), source.live(), {.on_live_start = [&] {
                       live = true;
                       publish_history(c, 10, 5, subject_a, "live");
                     }}));
  EXPECT_TRUE(live);
  ASSERT_EQ(got.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    const seen& s = got[static_cast<std::size_t>(i)];
    EXPECT_EQ(s.sequence, static_cast<std::uint64_t>(11 + i));
    EXPECT_EQ(s.time, t0 + std::chrono::milliseconds(10 + i)) << "its own time, from the header";
    EXPECT_EQ(s.now, m.clock.now()) << "a live event earlier than now runs now";
  }
}

TEST_F(NatsSource, PublishingDuringReplayLeavesNoGapAndNoDuplicateAtTheSeam) {
  nats::connection c = with_trades();
  constexpr int history = 5000;
  constexpr int during = 2000;
  publish_history(c, 0, history, a_or_b);
  manual_loop m;
  nats::subject_source<std::string> source(m.loop, c, {.stream = "TRADES", .subject = "trades.>"});
  std::vector<seen> got;
  std::size_t seam = 0;
  std::thread producer;
  m.loop.run({}, asp::process_stream(
                     [&](asp::time_point t, const nats::message<std::string>& msg) {
                       got.push_back({msg.sequence, t, m.loop.now(), msg.value, msg.subject});
                       if (got.size() == 100) {
                         producer = std::thread(
                             [&] { publish_history(c, history, during, a_or_b, "during"); });
                       }
                       if (msg.sequence == history + during) source.close();
                     },
                     source.past(), source.live(), {.on_live_start = [&] { seam = got.size(); }}));
  producer.join();
  ASSERT_EQ(got.size(), static_cast<std::size_t>(history + during));
  bool gone_live = false;
  for (std::size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i].sequence, i + 1) << "every sequence once, in order";
    ASSERT_EQ(got[i].time, t0 + std::chrono::milliseconds(i));
    // The past runs at its own times. Live events published during replay carry times after
    // the history's, in the virtual past: they run at their own times too while they keep the
    // loop busy; once the loop has waited for one, its clock is the real clock (contract C6).
    if (i < seam || !gone_live) {
      gone_live = i >= seam && got[i].now == m.clock.now();
      if (!gone_live) {
        ASSERT_EQ(got[i].now, got[i].time) << "event #" << i << ", seam " << seam;
      }
    } else {
      ASSERT_EQ(got[i].now, m.clock.now()) << "event #" << i << ", seam " << seam;
    }
  }
  EXPECT_GE(seam, static_cast<std::size_t>(history))
      << "the history stored before the start is past";
  EXPECT_LE(seam, static_cast<std::size_t>(history + during));
}

TEST_F(NatsSource, APendingThresholdEndsThePastEarlierAndTheRestComesLiveInOrder) {
  nats::connection c = with_trades();
  publish_history(c, 0, 100, subject_a);
  manual_loop m;
  nats::subject_source<std::string> source(
      m.loop, c, {.stream = "TRADES", .subject = "trades.>", .caught_up_pending = 10});
  std::vector<std::uint64_t> seqs;
  std::size_t seam = 0;
  m.loop.run({}, asp::process_stream(
                     [&](asp::time_point, const nats::message<std::string>& msg) {
                       seqs.push_back(msg.sequence);
                       if (msg.sequence == 100) source.close();
                     },
                     source.past(), source.live(), {.on_live_start = [&] { seam = seqs.size(); }}));
  EXPECT_EQ(seam, 90u) << "the past ends with the message after which 10 are pending";
  ASSERT_EQ(seqs.size(), 100u);
  for (std::size_t i = 0; i < seqs.size(); ++i) EXPECT_EQ(seqs[i], i + 1);
}

// Without live messages to follow, the history is all the stream held when the source was
// made: a consumer's count of what is pending (low by a threshold here, low after a leader
// election when its server lags the leader) does not end it early.
TEST_F(NatsSource, ABacktestReplaysTheWholeHistoryWhateverThePendingCountSays) {
  nats::connection c = with_trades();
  publish_history(c, 0, 100, a_or_b);
  for (const char* subject : {"trades.>", "trades.A"}) {
    manual_loop m;
    std::vector<std::uint64_t> seqs;
    m.loop.run({}, nats::process_subject<std::string>(
                       [&](asp::time_point, const nats::message<std::string>& msg) {
                         seqs.push_back(msg.sequence);
                       },
                       m.loop, c,
                       {.stream = "TRADES",
                        .subject = subject,
                        .caught_up_pending = 10,
                        .follow_live = false}));
    const std::uint64_t step = std::string(subject) == "trades.A" ? 2 : 1;
    ASSERT_EQ(seqs.size(), 100u / step) << subject;
    for (std::size_t i = 0; i < seqs.size(); ++i) EXPECT_EQ(seqs[i], 1 + i * step) << subject;
  }
}

TEST_F(NatsSource, ServerTimesWhenAsked) {
  nats::connection c = with_trades();
  publish_history(c, 0, 20, subject_a);
  manual_loop m;
  std::vector<std::pair<asp::time_point, asp::time_point>> times;
  m.loop.run({},
             nats::process_subject<std::string>(
                 [&](asp::time_point t, const nats::message<std::string>& msg) {
                   times.emplace_back(t, msg.stored);
                 },
                 m.loop, c,
                 {.stream = "TRADES", .times = nats::time_source::server, .follow_live = false}));
  ASSERT_EQ(times.size(), 20u);
  for (std::size_t i = 0; i < times.size(); ++i) {
    EXPECT_EQ(times[i].first, times[i].second);
    EXPECT_GT(times[i].first, t0 + 24h) << "stored now, not at the event time";
    if (i > 0) {
      EXPECT_GE(times[i].first, times[i - 1].first);
    }
  }
  // A start time then is a server time too.
  std::vector<std::uint64_t> seqs;
  manual_loop m2;
  m2.loop.run({}, nats::process_subject<std::string>(
                      [&](asp::time_point, const nats::message<std::string>& msg) {
                        seqs.push_back(msg.sequence);
                      },
                      m2.loop, c,
                      {.stream = "TRADES",
                       .start = times[7].first,
                       .times = nats::time_source::server,
                       .follow_live = false}));
  ASSERT_FALSE(seqs.empty());
  EXPECT_LE(seqs.front(), 8u);
  EXPECT_EQ(seqs.back(), 20u);
}

// Publishes `payload` on `subject` without headers, through nats.c itself.
void publish_bare(const std::string& url, const char* subject, const char* payload) {
  natsConnection* nc = nullptr;
  ASSERT_EQ(natsConnection_ConnectTo(&nc, url.c_str()), NATS_OK);
  jsCtx* js = nullptr;
  ASSERT_EQ(natsConnection_JetStream(&js, nc, nullptr), NATS_OK);
  jsPubAck* ack = nullptr;
  ASSERT_EQ(js_Publish(&ack, js, subject, payload, static_cast<int>(std::strlen(payload)), nullptr,
                       nullptr),
            NATS_OK);
  jsPubAck_Destroy(ack);
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
}

TEST_F(NatsSource, AMessageWithoutATimeFailsTheRunNamingItsSequence) {
  nats::connection c = with_trades();
  publish_history(c, 0, 2, subject_a);
  publish_bare(m_server.url(), "trades.X", "bare");
  manual_loop m;
  int delivered = 0;
  const asp::run_error e = run_error_of([&] {
    m.loop.run(
        {}, nats::process_subject<std::string>(
                [&](asp::time_point, const nats::message<std::string>&) { ++delivered; }, m.loop, c,
                {.stream = "TRADES", .subject = "trades.>", .follow_live = false}));
  });
  EXPECT_EQ(delivered, 2) << "what came before is delivered";
  const std::string what = e.what();
  EXPECT_NE(what.find("stream 'TRADES:trades.>', event #2"), std::string::npos) << what;
  EXPECT_NE(what.find("nats stream 'TRADES' subject 'trades.>' at " + m_server.url() +
                      ": sequence 3 (subject trades.X): no Asp-Time header"),
            std::string::npos)
      << what;
}

TEST_F(NatsSource, APayloadTheCodecRefusesFailsTheRunNamingItsSequence) {
  nats::connection c = with_trades();
  publish_history(c, 0, 1, subject_a);
  manual_loop m;
  const asp::run_error e = run_error_of([&] {
    m.loop.run({}, nats::process_subject<std::int64_t>(
                       [&](asp::time_point, const nats::message<std::int64_t>&) {}, m.loop, c,
                       {.stream = "TRADES", .follow_live = false}));
  });
  const std::string what = e.what();
  EXPECT_NE(what.find("sequence 1 (subject trades.A): cannot decode the payload: a payload of "
                      "2 bytes for a type of 8"),
            std::string::npos)
      << what;
}

TEST_F(NatsSource, AMissingStreamOrServerIsAClearError) {
  nats::connection c = connect();
  manual_loop m;
  try {
    nats::subject_source<std::string> source(m.loop, c, {.stream = "NOPE"});
    FAIL() << "no error";
  } catch (const asp::input_error& e) {
    EXPECT_NE(
        std::string(e.what()).find("no information on the stream 'NOPE' at " + m_server.url()),
        std::string::npos)
        << e.what();
  }
  const int closed_port = free_port();
  const std::string url = "nats://127.0.0.1:" + std::to_string(closed_port);
  try {
    nats::connection bad(url);
    FAIL() << "no error";
  } catch (const asp::input_error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot connect to " + url), std::string::npos)
        << e.what();
  }
}

TEST_F(NatsSource, ReplayThatStallsLongerThanTheTimeoutFailsTheRunAfterWhatCameBefore) {
  nats::connection c = with_trades();
  publish_history(c, 0, 100'000, subject_a);
  manual_loop m;
  std::uint64_t delivered = 0;
  const asp::run_error e = run_error_of([&] {
    m.loop.run({},
               nats::process_subject<std::string>(
                   [&](asp::time_point, const nats::message<std::string>& msg) {
                     EXPECT_EQ(msg.sequence, ++delivered);
                     // The server goes for good while history is still pending.
                     if (delivered == 1) m_server.kill();
                   },
                   m.loop, c, {.stream = "TRADES", .stall_timeout = 300ms, .follow_live = false}));
  });
  EXPECT_GE(delivered, 1u);
  EXPECT_LT(delivered, 100'000u);
  const std::string what = e.what();
  EXPECT_NE(what.find("nats stream 'TRADES' subject '>' at " + m_server.url() +
                      ": no message for 300 ms while replaying history (last sequence " +
                      std::to_string(delivered) + ")"),
            std::string::npos)
      << what;
}

}  // namespace

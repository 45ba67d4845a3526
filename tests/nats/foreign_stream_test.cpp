// Streams that ASP did not make: created and filled by nats.c's own API (as another service, or
// another client library, makes them), with JetStream's defaults — no direct gets — and with
// direct gets, with one subject, a wildcard, and as a mirror. subject_source reads each of them
// from every kind of start: direct gets where the stream allows them, the stream's message-get
// API where it does not.

#include <asp/nats/source.hpp>
#include <asp/run.hpp>
#include <asp/testing/fixture.hpp>

#include "nats/nats_fixture.hpp"

#include <nats/nats.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace asp::testing;
using namespace std::chrono_literals;
namespace nats = asp::nats;

// nats.c's plain API, no ASP code: what a service written with another client does.
class plain_client {
 public:
  explicit plain_client(const std::string& url) {
    EXPECT_EQ(natsConnection_ConnectTo(&m_nc, url.c_str()), NATS_OK);
    EXPECT_EQ(natsConnection_JetStream(&m_js, m_nc, nullptr), NATS_OK);
  }
  ~plain_client() {
    jsCtx_Destroy(m_js);
    natsConnection_Destroy(m_nc);
  }
  plain_client(const plain_client&) = delete;
  plain_client& operator=(const plain_client&) = delete;

  // A stream with JetStream's defaults but for the subjects, the storage and AllowDirect; or a
  // mirror of another stream.
  void add_stream(const std::string& name, const std::vector<const char*>& subjects,
                  bool allow_direct, const char* mirror_of = nullptr) {
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    cfg.Name = name.c_str();
    cfg.Subjects = const_cast<const char**>(subjects.data());
    cfg.SubjectsLen = static_cast<int>(subjects.size());
    cfg.Storage = js_MemoryStorage;
    cfg.AllowDirect = allow_direct;
    jsStreamSource source;
    if (mirror_of != nullptr) {
      jsStreamSource_Init(&source);
      source.Name = mirror_of;
      cfg.Mirror = &source;
      cfg.SubjectsLen = 0;
      cfg.Subjects = nullptr;
    }
    jsStreamInfo* info = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    ASSERT_EQ(js_AddStream(&info, m_js, &cfg, nullptr, &jerr), NATS_OK) << name << " " << jerr;
    EXPECT_EQ(info->Config->AllowDirect, allow_direct);
    jsStreamInfo_Destroy(info);
  }

  // Message i on `subject` with the Asp-Time header t0 + i ms, payload "v<i>".
  void publish(const std::string& subject, int i) {
    natsMsg* m = nullptr;
    const std::string payload = "v" + std::to_string(i);
    ASSERT_EQ(natsMsg_Create(&m, subject.c_str(), nullptr, payload.data(),
                             static_cast<int>(payload.size())),
              NATS_OK);
    const auto ns = (t0 + std::chrono::milliseconds(i)).time_since_epoch().count();
    ASSERT_EQ(natsMsgHeader_Set(m, "Asp-Time", std::to_string(ns).c_str()), NATS_OK);
    jsPubAck* ack = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    ASSERT_EQ(js_PublishMsg(&ack, m_js, m, nullptr, &jerr), NATS_OK) << jerr;
    jsPubAck_Destroy(ack);
    natsMsg_Destroy(m);
  }

  // Message i on `subject`, payload "v<i>", without any header: its time is the server's.
  void publish_bare(const std::string& subject, int i) {
    const std::string payload = "v" + std::to_string(i);
    jsPubAck* ack = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    ASSERT_EQ(js_Publish(&ack, m_js, subject.c_str(), payload.data(),
                         static_cast<int>(payload.size()), nullptr, &jerr),
              NATS_OK)
        << jerr;
    jsPubAck_Destroy(ack);
  }

  // Waits (up to ten seconds) until `stream` holds `n` messages: a mirror copies in the
  // background.
  void wait_for(const std::string& stream, std::uint64_t n) {
    for (int attempt = 0; attempt < 1000; ++attempt) {
      jsStreamInfo* info = nullptr;
      jsErrCode jerr = static_cast<jsErrCode>(0);
      ASSERT_EQ(js_GetStreamInfo(&info, m_js, stream.c_str(), nullptr, &jerr), NATS_OK);
      const std::uint64_t have = info->State.Msgs;
      jsStreamInfo_Destroy(info);
      if (have >= n) return;
      std::this_thread::sleep_for(10ms);
    }
    FAIL() << stream << " never held " << n << " messages";
  }

 private:
  natsConnection* m_nc = nullptr;
  jsCtx* m_js = nullptr;
};

struct read {
  std::vector<std::uint64_t> sequences;
  std::vector<std::int64_t> ms;  // each event's time, in ms after t0
  std::uint64_t start_sequence = 0;
};

read replay(nats::connection& c, const std::string& stream, const std::string& subject,
            nats::start_position start) {
  manual_loop m;
  read out;
  nats::subject_source<std::string> source(
      m.loop, c, {.stream = stream, .subject = subject, .start = start, .follow_live = false});
  out.start_sequence = source.start_sequence();
  m.loop.run({}, asp::process_stream(
                     [&](asp::time_point t, const nats::message<std::string>& msg) {
                       out.sequences.push_back(msg.sequence);
                       out.ms.push_back((t - t0) / 1ms);
                       EXPECT_EQ(msg.value, "v" + std::to_string((t - t0) / 1ms));
                     },
                     source.past(), source.live()));
  return out;
}

std::vector<std::uint64_t> range(std::uint64_t first, std::uint64_t last, std::uint64_t step = 1) {
  std::vector<std::uint64_t> out;
  for (std::uint64_t s = first; s <= last; s += step) out.push_back(s);
  return out;
}

using NatsForeignStream = nats_test;

// 600 messages on one subject, as the stream made by the Node.js client held them.
TEST_F(NatsForeignStream, OneSubjectWithAndWithoutDirectGetsFromEveryKindOfStart) {
  plain_client other(m_server.url());
  other.add_stream("PLAIN", {"plain.x"}, false);
  other.add_stream("DIRECT", {"direct.x"}, true);
  for (int i = 0; i < 600; ++i) {
    other.publish("plain.x", i);
    other.publish("direct.x", i);
  }
  nats::connection c = connect();
  EXPECT_FALSE(c.stream_info("PLAIN").allow_direct);
  EXPECT_TRUE(c.stream_info("DIRECT").allow_direct);
  for (const auto& [stream, subject] : {std::pair{"PLAIN", "plain.x"}, {"DIRECT", "direct.x"}}) {
    SCOPED_TRACE(stream);
    const read all = replay(c, stream, subject, nats::from_sequence{1});
    EXPECT_EQ(all.sequences, range(1, 600));
    EXPECT_EQ(all.ms.front(), 0);
    EXPECT_EQ(all.ms.back(), 599);
    const read half = replay(c, stream, subject, t0 + 300ms);
    EXPECT_EQ(half.start_sequence, 301u);
    EXPECT_EQ(half.sequences, range(301, 600));
    const read later = replay(c, stream, subject, t0 + 300ms + 1ns);
    EXPECT_EQ(later.sequences, range(302, 600));
    EXPECT_TRUE(replay(c, stream, subject, t0 + 1h).sequences.empty());
    const read from_seq = replay(c, stream, subject, nats::from_sequence{599});
    EXPECT_EQ(from_seq.sequences, range(599, 600));
    const read none = replay(c, stream, subject, nats::new_only);
    EXPECT_EQ(none.start_sequence, 601u);
    EXPECT_TRUE(none.sequences.empty());
  }
}

// A wildcard stream without direct gets, read one subject at a time: the start search looks at
// messages of any subject (their times rise across the stream), the consumer takes the subject.
TEST_F(NatsForeignStream, AWildcardStreamWithoutDirectGetsReadsEachSubject) {
  plain_client other(m_server.url());
  other.add_stream("WILD", {"wild.>"}, false);
  for (int i = 0; i < 400; ++i) other.publish(i % 2 == 0 ? "wild.A" : "wild.B", i);
  nats::connection c = connect();
  EXPECT_EQ(replay(c, "WILD", "wild.A", nats::from_sequence{1}).sequences, range(1, 399, 2));
  const read b = replay(c, "WILD", "wild.B", t0 + 200ms);
  EXPECT_EQ(b.sequences, range(202, 400, 2));
  EXPECT_EQ(b.ms.front(), 201);
  EXPECT_EQ(replay(c, "WILD", "wild.>", t0 + 399ms).sequences, range(400, 400));
  // A subject with no message: the past is empty at once (no stall waiting for one).
  EXPECT_TRUE(replay(c, "WILD", "wild.C", nats::from_sequence{1}).sequences.empty());
  EXPECT_TRUE(replay(c, "WILD", "wild.C", t0 + 100ms).sequences.empty());
}

// A mirror (no subjects of its own, no direct gets) of a stream, read by time.
TEST_F(NatsForeignStream, AMirrorWithoutDirectGetsIsReadLikeItsSource) {
  plain_client other(m_server.url());
  other.add_stream("ORIGIN", {"origin.x"}, false);
  for (int i = 0; i < 300; ++i) other.publish("origin.x", i);
  other.add_stream("COPY", {}, false, "ORIGIN");
  other.wait_for("COPY", 300);
  nats::connection c = connect();
  EXPECT_EQ(replay(c, "COPY", "origin.x", nats::from_sequence{1}).sequences, range(1, 300));
  const read late = replay(c, "COPY", "origin.x", t0 + 250ms);
  EXPECT_EQ(late.start_sequence, 251u);
  EXPECT_EQ(late.sequences, range(251, 300));
}

// Messages stored without any header, by a client that knows nothing of ASP: with
// times = server, each event's time is the time the server stored it, and a start by time
// finds the first message stored at or after it.
TEST_F(NatsForeignStream, MessagesWithoutHeadersAreReadAtTheServersTimes) {
  plain_client other(m_server.url());
  other.add_stream("BARE", {"bare.x"}, false);
  for (int i = 0; i < 200; ++i) other.publish_bare("bare.x", i);
  nats::connection c = connect();
  auto read_from = [&](nats::start_position start) {
    std::vector<std::pair<std::uint64_t, asp::time_point>> got;
    manual_loop m;
    nats::subject_source<std::string> source(m.loop, c,
                                             {.stream = "BARE",
                                              .subject = "bare.x",
                                              .start = start,
                                              .times = nats::time_source::server,
                                              .follow_live = false});
    m.loop.run({}, asp::process_stream(
                       [&](asp::time_point t, const nats::message<std::string>& msg) {
                         EXPECT_EQ(t, msg.stored);
                         EXPECT_EQ(msg.value, "v" + std::to_string(msg.sequence - 1));
                         got.push_back({msg.sequence, t});
                       },
                       source.past(), source.live()));
    return got;
  };
  const auto all = read_from(nats::from_sequence{1});
  ASSERT_EQ(all.size(), 200u);
  for (std::size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].first, i + 1);
    if (i > 0) {
      EXPECT_GE(all[i].second, all[i - 1].second);
    }
  }
  // From the time message 100 was stored: the first message stored at or after it.
  const asp::time_point at = all[99].second;
  std::size_t first = 0;
  while (all[first].second < at) ++first;
  const auto later = read_from(at);
  ASSERT_FALSE(later.empty());
  EXPECT_EQ(later.front().first, first + 1);
  EXPECT_EQ(later.size(), 200 - first);
}

// Two producers whose clocks or paths are 7 ms apart, storing in turn into one stream: A's
// messages at 10k ms, B's at 10k - 7 ms (k = 1..10), so times in sequence order go 10, 3, 20,
// 13, 30, 23, ... The binary search for a start time assumes times that do not decrease; here
// it can land past a message of the start time. start_tolerance is the documented way out.
TEST_F(NatsForeignStream, TwoUnsynchronisedProducersNeedAStartTolerance) {
  plain_client other(m_server.url());
  other.add_stream("TWO", {"two.x"}, false);
  other.add_stream("TWO_DIRECT", {"two.y"}, true);
  for (int k = 1; k <= 10; ++k) {
    for (const char* subject : {"two.x", "two.y"}) {
      other.publish(subject, 10 * k);
      other.publish(subject, 10 * k - 7);
    }
  }
  nats::connection c = connect();
  struct got {
    std::uint64_t start_sequence = 0;
    std::vector<std::uint64_t> sequences;
    std::vector<std::string> values;  // the payloads: "v<ms of the message's own time>"
    std::vector<std::int64_t> ms;     // the times delivered (clamped where they decrease)
    std::uint64_t clamped = 0;
  };
  auto read_from = [&](const std::string& stream, const std::string& subject,
                       asp::duration tolerance) {
    got out;
    manual_loop m;
    nats::subject_source<std::string> source(m.loop, c,
                                             {.stream = stream,
                                              .subject = subject,
                                              .start = t0 + 40ms,
                                              .start_tolerance = tolerance,
                                              .follow_live = false});
    out.start_sequence = source.start_sequence();
    auto handle =
        asp::start(m.loop, asp::process_stream(
                               [&](asp::time_point t, const nats::message<std::string>& msg) {
                                 out.sequences.push_back(msg.sequence);
                                 out.values.push_back(msg.value);
                                 out.ms.push_back((t - t0) / 1ms);
                               },
                               source.past(), source.live(), {.order = asp::out_of_order::clamp}));
    m.loop.run();
    out.clamped = handle.stats().clamped;
    return out;
  };
  for (const auto& [stream, subject] : {std::pair{"TWO", "two.x"}, {"TWO_DIRECT", "two.y"}}) {
    SCOPED_TRACE(stream);
    // Without a tolerance the search probes sequences 11 (60 ms), 6 (23 ms), 9 (50 ms) and 8
    // (33 ms), never 7: the history starts at 9 and A's message of 40 ms, stored at 7, is missed.
    const got exact = read_from(stream, subject, 0ms);
    EXPECT_EQ(exact.start_sequence, 9u);
    EXPECT_EQ(exact.sequences, range(9, 20));
    EXPECT_EQ(exact.values.front(), "v50");
    // With the skew as the tolerance the search looks for 33 ms, starts at 7, and every
    // message of 40 ms or later is there, B's of 33 ms (sequence 8) dropped as before the start.
    // In sequence order B's times are 7 ms behind A's: with out_of_order::clamp each comes at
    // the time of the A message before it (with fail, the default, the run stops at the first).
    const std::vector<std::string> all_from_40 = {"v40", "v50", "v43", "v60", "v53",  "v70", "v63",
                                                  "v80", "v73", "v90", "v83", "v100", "v93"};
    const got tolerant = read_from(stream, subject, 7ms);
    EXPECT_EQ(tolerant.start_sequence, 7u);
    std::vector<std::uint64_t> expected{7};
    for (std::uint64_t seq = 9; seq <= 20; ++seq) expected.push_back(seq);
    EXPECT_EQ(tolerant.sequences, expected);
    EXPECT_EQ(tolerant.values, all_from_40);
    EXPECT_EQ(tolerant.ms,
              (std::vector<std::int64_t>{40, 50, 50, 60, 60, 70, 70, 80, 80, 90, 90, 100, 100}));
    EXPECT_EQ(tolerant.clamped, 6u);
    // A larger tolerance only reads more to drop: the same history.
    const got wide = read_from(stream, subject, 1h);
    EXPECT_EQ(wide.values, all_from_40);
    // The largest tolerance: the search starts at the stream's first message.
    EXPECT_EQ(read_from(stream, subject, asp::duration::max()).values, all_from_40);
  }
  // The default order policy names the first decrease.
  manual_loop m;
  nats::subject_source<std::string> source(m.loop, c,
                                           {.stream = "TWO",
                                            .subject = "two.x",
                                            .start = t0 + 40ms,
                                            .start_tolerance = 7ms,
                                            .follow_live = false});
  const asp::run_error e = run_error_of([&] {
    m.loop.run({}, asp::process_stream([](asp::time_point, const nats::message<std::string>&) {},
                                       source.past(), source.live()));
  });
  EXPECT_NE(std::string(e.what()).find("event #2"), std::string::npos) << e.what();
  EXPECT_NE(std::string(e.what()).find("out of order"), std::string::npos) << e.what();
  EXPECT_THROW(nats::subject_source<std::string>(
                   m.loop, c, {.stream = "TWO", .start = t0, .start_tolerance = -1ms}),
               asp::input_error);
}

}  // namespace

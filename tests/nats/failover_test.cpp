// A 3-node cluster with an R3 stream on loopback: the stream's leader is killed while the
// source replays history, and the next leader while it follows live messages. The source
// reconnects and delivers every message exactly once, in order (sequence numbers, not timings).

#include <asp/nats/source.hpp>
#include <asp/testing/fixture.hpp>

#include "nats/nats_fixture.hpp"
#include "nats/nats_server.hpp"

#include <nats/nats.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace asp::testing;
using namespace std::chrono_literals;
namespace nats = asp::nats;

std::string a_or_b(int i) {
  return i % 2 == 0 ? "trades.A" : "trades.B";
}

// Publishes a message until JetStream has stored it, through leader changes. A retried publish
// may be stored twice, and not always in the order of the attempts (JetStream's
// de-duplication by Nats-Msg-Id and its order across a leader change hold for what one leader
// acknowledged): a copy is a message of its own, with a sequence of its own, which the source
// must deliver like any other. So the messages published while leaders are killed all carry
// one time, and event times never decrease in the stream.
class reliable_publisher {
 public:
  explicit reliable_publisher(const std::string& urls) {
    natsOptions* o = nullptr;
    natsOptions_Create(&o);
    std::vector<std::string> list;
    for (std::size_t at = 0; at <= urls.size();) {
      const std::size_t comma = std::min(urls.find(',', at), urls.size());
      list.push_back(urls.substr(at, comma - at));
      at = comma + 1;
    }
    std::vector<const char*> servers;
    for (const std::string& u : list) servers.push_back(u.c_str());
    natsOptions_SetServers(o, servers.data(), static_cast<int>(servers.size()));
    natsOptions_SetMaxReconnect(o, -1);
    natsOptions_SetReconnectWait(o, 100);
    const natsStatus s = natsConnection_Connect(&m_nc, o);
    natsOptions_Destroy(o);
    if (s != NATS_OK) {
      throw std::runtime_error(std::string("cannot connect: ") + natsStatus_GetText(s));
    }
    jsOptions js;
    jsOptions_Init(&js);
    js.Wait = 1000;
    natsConnection_JetStream(&m_js, m_nc, &js);
  }
  ~reliable_publisher() {
    jsCtx_Destroy(m_js);
    natsConnection_Destroy(m_nc);
  }
  reliable_publisher(const reliable_publisher&) = delete;
  reliable_publisher& operator=(const reliable_publisher&) = delete;

  /// Publishes `payload` at `t` on `subject`.
  void publish(const std::string& subject, const std::string& payload, asp::time_point t) {
    const std::string id = "reliable-" + payload;
    const std::string stamp = std::to_string(t.time_since_epoch().count());
    for (;;) {
      natsMsg* msg = nullptr;
      natsMsg_Create(&msg, subject.c_str(), nullptr, payload.data(),
                     static_cast<int>(payload.size()));
      natsMsgHeader_Set(msg, nats::time_header, stamp.c_str());
      natsMsgHeader_Set(msg, "Nats-Msg-Id", id.c_str());
      jsPubAck* ack = nullptr;
      const natsStatus s = js_PublishMsg(&ack, m_js, msg, nullptr, nullptr);
      natsMsg_Destroy(msg);
      jsPubAck_Destroy(ack);
      if (s == NATS_OK) return;
      std::this_thread::sleep_for(50ms);
    }
  }

 private:
  natsConnection* m_nc = nullptr;
  jsCtx* m_js = nullptr;
};

TEST(NatsFailover, KillingTheStreamLeaderInReplayAndInLiveLosesAndRepeatsNothing) {
  temp_dir dir;
  nats_cluster cluster(dir.root());
  nats::connection c(cluster.urls());
  c.add_stream({.name = "TRADES", .subjects = {"trades.>"}, .replicas = 3});
  constexpr int history = 3000;
  constexpr int live = 2000;
  {
    reliable_publisher p(cluster.urls());
    for (int i = 0; i < history; ++i) {
      p.publish(a_or_b(i), "v" + std::to_string(i), t0 + std::chrono::milliseconds(i));
    }
  }
  manual_loop m;
  nats::subject_source<std::string> source(m.loop, c, {.stream = "TRADES", .subject = "trades.>"});
  std::vector<std::uint64_t> seqs;
  std::set<std::string> values;
  std::vector<std::string> killed;
  std::size_t seam = 0;
  bool times_in_order = true;
  asp::time_point previous{};
  std::jthread producer;  // joined however the test ends
  const auto kill_leader = [&] {
    const std::string leader = c.stream_info("TRADES").leader;
    ASSERT_FALSE(leader.empty());
    cluster.node(leader).kill();
    killed.push_back(leader);
  };
  m.loop.run({}, asp::process_stream(
                     [&](asp::time_point t, const nats::message<std::string>& msg) {
                       seqs.push_back(msg.sequence);
                       values.insert(msg.value);
                       times_in_order = times_in_order && t >= previous;
                       if (seqs.size() <= history) {
                         EXPECT_EQ(t, t0 + std::chrono::milliseconds(seqs.size() - 1));
                       }
                       previous = t;
                       if (seqs.size() == 1000) kill_leader();
                       if (seqs.size() == history + 500) {
                         // Back to three nodes before the next leader goes.
                         cluster.node(killed.front()).start();
                         kill_leader();
                       }
                       if (msg.value == "end") source.close();
                     },
                     source.past(), source.live(), {.on_live_start = [&] {
                       seam = seqs.size();
                       producer = std::jthread([&] {
                         reliable_publisher p(cluster.urls());
                         for (int i = history; i < history + live; ++i) {
                           p.publish(a_or_b(i), "v" + std::to_string(i), t0 + 1h);
                         }
                         p.publish("trades.end", "end", t0 + 1h);
                       });
                     }}));
  producer.join();
  std::printf("repeats dropped by the source: %llu\n",
              static_cast<unsigned long long>(source.repeats_dropped()));
  ASSERT_EQ(killed.size(), 2u);
  EXPECT_GE(seam, static_cast<std::size_t>(history));
  EXPECT_TRUE(times_in_order);
  // Every sequence from the first to "end" once, in order: nothing lost, nothing repeated.
  ASSERT_GE(seqs.size(), static_cast<std::size_t>(history + live + 1));
  for (std::size_t i = 0; i < seqs.size(); ++i) {
    ASSERT_EQ(seqs[i], i + 1) << "at #" << i << " (seam " << seam << "; before it "
                              << (i > 0 ? seqs[i - 1] : 0) << ", after it "
                              << (i + 1 < seqs.size() ? seqs[i + 1] : 0) << ")";
  }
  // And every message published is among them.
  for (int i = 0; i < history + live; ++i) {
    EXPECT_TRUE(values.count("v" + std::to_string(i))) << "v" << i;
  }
}

// A publisher rides through a leader election: the stream's leader is killed after 1,000 of
// 5,000 asynchronous publishes, and the rest are published while the cluster elects another.
// Messages not acknowledged in time are sent again with their ids; every payload is stored,
// nothing fails, and the run goes on to its end.
TEST(NatsFailover, APublisherRidesThroughALeaderElection) {
  temp_dir dir;
  nats_cluster cluster(dir.root());
  nats::connection c(cluster.urls());
  c.add_stream({.name = "RESULTS", .subjects = {"results.>"}, .replicas = 3});
  constexpr int n = 5000;
  manual_loop m;
  nats::publisher<std::string> out(m.loop, c, {.subject = "results.x", .name = "strategy"});
  std::string killed;
  bool ended = false;
  m.loop.call_soon([&] {
    for (int i = 0; i < n; ++i) {
      out.publish(t0 + std::chrono::milliseconds(i), "r" + std::to_string(i));
      if (i == 999) {
        killed = c.stream_info("RESULTS").leader;
        cluster.node(killed).kill();
      }
    }
    out.flush();
    ended = true;
  });
  m.loop.run();
  EXPECT_TRUE(ended);
  EXPECT_FALSE(killed.empty());
  EXPECT_EQ(out.published(), static_cast<std::uint64_t>(n));
  EXPECT_EQ(out.failed(), 0u);
  std::printf("sent again after the election: %llu\n",
              static_cast<unsigned long long>(out.resent()));

  // Every payload is in the stream (a send the old leader stored without acknowledging it
  // may be there twice: at least once is the guarantee across an election), read at the
  // server's times: a message sent again is stored after messages published after it.
  manual_loop r;
  nats::subject_source<std::string> source(r.loop, c,
                                           {.stream = "RESULTS",
                                            .subject = "results.>",
                                            .times = nats::time_source::server,
                                            .follow_live = false});
  std::set<std::string> stored;
  std::size_t messages = 0;
  r.loop.run({}, asp::process_stream(
                     [&](asp::time_point, const nats::message<std::string>& msg) {
                       stored.insert(msg.value);
                       ++messages;
                     },
                     source.past(), source.live()));
  EXPECT_EQ(stored.size(), static_cast<std::size_t>(n));
  EXPECT_GE(messages, static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) EXPECT_TRUE(stored.count("r" + std::to_string(i))) << i;
}

}  // namespace

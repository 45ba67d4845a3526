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

// Publishes message i (as publish_history does) until JetStream has stored it, through a leader
// change: the id makes a repeat harmless.
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
    if (s != NATS_OK)
      throw std::runtime_error(std::string("cannot connect: ") + natsStatus_GetText(s));
    natsOptions_Destroy(o);
    jsOptions js;
    jsOptions_Init(&js);
    js.Wait = 1000;
    natsConnection_JetStream(&m_js, m_nc, &js);
  }
  ~reliable_publisher() {
    jsCtx_Destroy(m_js);
    natsConnection_Destroy(m_nc);
  }
  void publish(int i) {
    const std::string subject = a_or_b(i);
    const std::string data = "v" + std::to_string(i);
    const std::string stamp =
        std::to_string((t0 + std::chrono::milliseconds(i)).time_since_epoch().count());
    const std::string id = "reliable-" + std::to_string(i);
    for (;;) {
      natsMsg* msg = nullptr;
      natsMsg_Create(&msg, subject.c_str(), nullptr, data.data(), static_cast<int>(data.size()));
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
  server_dir dir;
  nats_cluster cluster(dir.path());
  nats::connection c(cluster.urls());
  c.add_stream({.name = "TRADES", .subjects = {"trades.>"}, .replicas = 3});
  constexpr int history = 3000;
  constexpr int live = 2000;
  {
    reliable_publisher p(cluster.urls());
    for (int i = 0; i < history; ++i) p.publish(i);
  }
  manual_loop m;
  nats::subject_source<std::string> source(m.loop, c, {.stream = "TRADES", .subject = "trades.>"});
  std::vector<std::uint64_t> seqs;
  std::vector<std::string> killed;
  std::size_t seam = 0;
  std::thread producer;
  const auto kill_leader = [&] {
    const std::string leader = c.stream_info("TRADES").leader;
    ASSERT_FALSE(leader.empty());
    cluster.node(leader).kill();
    killed.push_back(leader);
  };
  m.loop.run({}, asp::process_stream(
                     [&](asp::time_point t, const nats::message<std::string>& msg) {
                       seqs.push_back(msg.sequence);
                       EXPECT_EQ(t, t0 + std::chrono::milliseconds(msg.sequence - 1));
                       if (seqs.size() == 1000) kill_leader();
                       if (seqs.size() == history + 500) {
                         // Back to three nodes before the next leader goes.
                         cluster.node(killed.front()).start();
                         kill_leader();
                       }
                       if (msg.sequence == history + live) source.close();
                     },
                     source.past(), source.live(), {.on_live_start = [&] {
                       seam = seqs.size();
                       producer = std::thread([&] {
                         reliable_publisher p(cluster.urls());
                         for (int i = history; i < history + live; ++i) p.publish(i);
                       });
                     }}));
  producer.join();
  ASSERT_EQ(killed.size(), 2u);
  EXPECT_GE(seam, static_cast<std::size_t>(history));
  ASSERT_EQ(seqs.size(), static_cast<std::size_t>(history + live));
  for (std::size_t i = 0; i < seqs.size(); ++i) ASSERT_EQ(seqs[i], i + 1) << "at #" << i;
}

}  // namespace

// Publishing to JetStream: the event time header, message ids that JetStream de-duplicates,
// bounded asynchronous publishing, refusals surfaced to the run.

#include <asp/nats/sink.hpp>
#include <asp/nats/source.hpp>
#include <asp/run.hpp>
#include <asp/spawn.hpp>
#include <asp/testing/fixture.hpp>
#include <asp/timer.hpp>

#include "nats/nats_fixture.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace {

using namespace asp::testing;
using namespace std::chrono_literals;
namespace nats = asp::nats;

using NatsSink = nats_test;

TEST_F(NatsSink, ResultsOfARunArriveWithTheirEventTimes) {
  nats::connection c = with_trades();
  manual_loop m;
  nats::publisher<std::int64_t> out(
      m.loop, c, {.subject = "trades.results", .name = "run", .max_in_flight = 8});
  m.loop.run({.start = t0, .end = t0 + 100s}, asp::timer(1s, [&](asp::time_point t) {
               out.publish(t, static_cast<std::int64_t>((t - t0) / 1s));
             }));
  out.flush();
  EXPECT_EQ(out.published(), 101u) << "ticks at t0, t0 + 1 s, ..., t0 + 100 s";
  EXPECT_EQ(out.failed(), 0u);
  std::vector<std::pair<asp::time_point, std::int64_t>> back;
  manual_loop r;
  r.loop.run({}, nats::process_subject<std::int64_t>(
                     [&](asp::time_point t, const nats::message<std::int64_t>& msg) {
                       back.emplace_back(t, msg.value);
                     },
                     r.loop, c, {.stream = "TRADES", .follow_live = false}));
  ASSERT_EQ(back.size(), 101u);
  for (std::size_t i = 0; i < back.size(); ++i) {
    EXPECT_EQ(back[i].first, t0 + std::chrono::seconds(i));
    EXPECT_EQ(back[i].second, static_cast<std::int64_t>(i));
  }
}

TEST_F(NatsSink, ARepeatedReplayStoresEachResultOnce) {
  nats::connection c = with_trades();
  for (int replay = 0; replay < 2; ++replay) {
    asp::loop l;
    nats::publisher<std::string> out(l, c, {.subject = "trades.x", .name = "strategy-7"});
    for (int i = 0; i < 50; ++i) out.publish(t0 + std::chrono::seconds(i), "r" + std::to_string(i));
    out.flush();
    EXPECT_EQ(out.published(), 50u);
  }
  EXPECT_EQ(c.stream_info("TRADES").messages, 50u) << "the ids strategy-7-1 .. -50 repeat";
  {
    asp::loop l;
    nats::publisher<std::string> out(
        l, c, {.subject = "trades.x", .name = "strategy-7", .message_ids = false});
    out.publish(t0, "r0");
    out.flush();
  }
  EXPECT_EQ(c.stream_info("TRADES").messages, 51u) << "without ids nothing is dropped";
}

TEST_F(NatsSink, ARefusedPublishFailsTheRunNamingThePublisherAndTheMessage) {
  nats::connection c = with_trades();
  manual_loop m;
  nats::publisher<std::string> out(m.loop, c, {.subject = "nowhere.x", .name = "orders"});
  asp::work_guard hold(m.loop);  // the run waits for the answer
  const asp::run_error e = run_error_of([&] {
    m.loop.call_soon([&] { out.publish(t0, "buy"); });
    m.loop.run();
  });
  EXPECT_EQ(e.where(), "nats publisher 'orders'");
  const std::string what = e.what();
  EXPECT_NE(what.find("publisher 'orders' at " + m_server.url() +
                      ": the message orders-1 to nowhere.x was not stored: "),
            std::string::npos)
      << what;
  EXPECT_EQ(out.failed(), 1u);
  try {
    out.flush();
    FAIL() << "flush did not report it";
  } catch (const asp::input_error& f) {
    EXPECT_NE(std::string(f.what()).find("orders-1 to nowhere.x"), std::string::npos) << f.what();
  }
}

TEST_F(NatsSink, AtMostMaxInFlightWaitForTheirAcknowledgement) {
  nats::connection c = with_trades();
  asp::loop l;
  nats::publisher<std::string> out(l, c,
                                   {.subject = "trades.y", .name = "bulk", .max_in_flight = 4});
  for (int i = 0; i < 2000; ++i) out.publish(t0 + std::chrono::milliseconds(i), "x");
  out.flush();
  EXPECT_EQ(out.published(), 2000u);
  EXPECT_EQ(c.stream_info("TRADES").messages, 2000u);
}

}  // namespace

// asp::metrics::server: the HTTP endpoint scraped by a plain client during a run and after it.

#include <asp/asio/metrics.hpp>

#include <asp/channel.hpp>
#include <asp/clock.hpp>
#include <asp/error.hpp>
#include <asp/loop.hpp>
#include <asp/stream.hpp>

#include "http_client.hpp"
#include "metrics_support.hpp"

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using asp::event;
using asp::time_point;

const time_point T = asp::testing::metrics_now;
using asp::testing::has_line;

std::vector<event<int>> history() {
  return asp::testing::metrics_history();
}

TEST(Metrics, ServedOverHttpDuringARunAndRefusedAfterIt) {
  asp::manual_clock clock(T);
  asp::loop l(clock);
  asp::channel<int> ticks(l, 8, asp::when_full::block, "ticks");
  asp::metrics::registry reg(l);
  std::promise<void> caught_up;
  asp::stream_options options;
  options.name = "quotes";
  asp::stream_handle quotes =
      asp::start(l, asp::process_stream([](time_point, int) {}, history(), ticks, options));
  reg.add("quotes", quotes);
  asp::metrics::server server(reg, ":0", 200ms);
  ASSERT_NE(server.port(), 0);
  // The loop's own turn to live, not the stream's on_live_start: the stream starts waiting for
  // the channel before the loop finds nothing left to replay, and a scrape posted in between
  // would find the loop still replaying.
  std::thread runner([&] { l.run({.on_live = [&](time_point) { caught_up.set_value(); }}); });
  caught_up.get_future().wait();

  // The loop waits for the channel: the scrape is collected on its thread.
  const std::string scraped = asp::testing::http_request(server.port(), "GET", "/metrics");
  EXPECT_EQ(scraped.rfind("HTTP/1.0 200 OK\r\n", 0), 0u) << scraped;
  EXPECT_NE(scraped.find("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"),
            std::string::npos);
  EXPECT_TRUE(has_line(scraped, "asp_stream_events_total{stream=\"quotes\"} 3")) << scraped;
  // Waiting for input, the loop has caught up with the real clock: it is live, at T. The
  // scrape is the one piece of work posted from another thread.
  EXPECT_TRUE(has_line(scraped, "asp_loop_live 1"));
  EXPECT_TRUE(has_line(scraped, "asp_loop_virtual_time_seconds 1735732800"));
  EXPECT_TRUE(has_line(scraped, "asp_loop_behind_real_seconds 0"));
  EXPECT_TRUE(has_line(scraped, "asp_loop_posts_total 1"));
  EXPECT_TRUE(has_line(scraped, "asp_loop_queued_work 0"));
  const std::string head = asp::testing::http_request(server.port(), "HEAD", "/metrics");
  EXPECT_EQ(head.rfind("HTTP/1.0 200 OK\r\n", 0), 0u);
  EXPECT_EQ(head.substr(head.find("\r\n\r\n") + 4), "");
  const std::string elsewhere = asp::testing::http_request(server.port(), "GET", "/");
  EXPECT_EQ(elsewhere.rfind("HTTP/1.0 404 Not Found\r\n", 0), 0u) << elsewhere;
  const std::string posted = asp::testing::http_request(server.port(), "POST", "/metrics");
  EXPECT_EQ(posted.rfind("HTTP/1.0 405 Method Not Allowed\r\n", 0), 0u) << posted;
  EXPECT_EQ(server.scrapes(), 2u);

  ticks.close();
  runner.join();
  // No run: nobody collects, and the answer says so.
  const std::string after = asp::testing::http_request(server.port(), "GET", "/metrics");
  EXPECT_EQ(after.rfind("HTTP/1.0 503 Service Unavailable\r\n", 0), 0u) << after;
  EXPECT_NE(after.find("did not answer within 200 ms: no run is active"), std::string::npos);
  EXPECT_EQ(server.scrapes(), 2u);
}

TEST(Metrics, AClientThatStallsIsClosedAndHoldsNoOneElseUp) {
  asp::manual_clock clock(T);
  asp::loop l(clock);
  asp::metrics::registry reg(l);
  asp::metrics::server server(reg, ":0", 100ms, 100ms);
  // Connects and sends nothing.
  const int stalled = asp::testing::connect_loopback(server.port(), 10);
  ASSERT_GE(stalled, 0);
  // Meanwhile another client is answered (503: no run).
  const std::string other = asp::testing::http_request(server.port(), "GET", "/metrics");
  EXPECT_EQ(other.rfind("HTTP/1.0 503 Service Unavailable\r\n", 0), 0u) << other;
  // The server closes the stalled connection once idle_timeout has passed: end of stream,
  // not the client's own ten-second timeout.
  char byte = 0;
  EXPECT_EQ(::recv(stalled, &byte, 1, 0), 0);
  ::close(stalled);
}

TEST(Metrics, AnAddressThatCannotBeServedIsNamed) {
  asp::manual_clock clock(T);
  asp::loop l(clock);
  asp::metrics::registry reg(l);
  EXPECT_THROW(asp::metrics::server(reg, "127.0.0.1"), asp::input_error);
  EXPECT_THROW(asp::metrics::server(reg, "127.0.0.1:99999"), asp::input_error);
  EXPECT_THROW(asp::metrics::server(reg, "localhost:9464"), asp::input_error);
  asp::metrics::server first(reg, "127.0.0.1:0");
  try {
    asp::metrics::server second(reg, "127.0.0.1:" + std::to_string(first.port()));
    FAIL() << "a second server listened on a port in use";
  } catch (const asp::input_error& e) {
    EXPECT_NE(
        std::string(e.what()).find("cannot listen on 127.0.0.1:" + std::to_string(first.port())),
        std::string::npos)
        << e.what();
  }
}

}  // namespace

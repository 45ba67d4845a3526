// asp::metrics: the registry's text at known moments of a run on the manual clock, and the
// HTTP endpoint scraped by a plain client during a run and after it.

#include <asp/asio/metrics.hpp>
#include <asp/channel.hpp>
#include <asp/clock.hpp>
#include <asp/error.hpp>
#include <asp/loop.hpp>
#include <asp/metrics.hpp>
#include <asp/stream.hpp>

#include "http_client.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using asp::event;
using asp::time_point;

// 2025-01-01T12:00:00Z
const time_point T{std::chrono::seconds(1735732800)};

std::vector<event<int>> history() {
  return {{T - 3s, 1}, {T - 2s, 2}, {T - 1s, 3}};
}

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0;
}

TEST(Metrics, TheTextAtKnownMomentsOfARunOnTheManualClock) {
  asp::manual_clock clock(T);
  asp::loop l(clock);
  asp::channel<int> ticks(l, 8, asp::when_full::block, "ticks");
  asp::metrics::registry reg(l);
  std::string at_live_start, at_end;
  asp::stream_options options;
  options.name = "quotes";
  options.on_live_start = [&] { at_live_start = reg.collect(); };
  asp::stream_handle quotes = asp::start(l, asp::process_stream(
                                                [&](time_point, int v) {
                                                  if (v == 11) at_end = reg.collect();
                                                },
                                                history(), ticks, options));
  reg.add("quotes", quotes);
  reg.add("ticks", ticks);
  std::uint64_t sent = 0;
  reg.add_counter("app_orders_sent_total", "Orders sent", {{"venue", "X\"N\\AS\n"}},
                  [&] { return static_cast<double>(++sent); });
  reg.add_gauge("app_position", "Position held", {}, [] { return -2.5; });
  // Live events stamped by their source, 250 ms and 5 ms before the real clock's reading.
  ticks.push(T - 250ms, 10);
  ticks.push(T - 5ms, 11);
  ticks.close();
  l.run();

  // After the history: at T - 1 s, one second behind the real clock, replaying.
  EXPECT_TRUE(has_line(at_live_start, "asp_stream_events_total{stream=\"quotes\"} 3"))
      << at_live_start;
  EXPECT_TRUE(has_line(at_live_start, "asp_loop_live 0"));
  EXPECT_TRUE(has_line(at_live_start, "asp_loop_virtual_time_seconds 1735732799"));
  EXPECT_TRUE(has_line(at_live_start, "asp_loop_behind_real_seconds 1"));
  EXPECT_TRUE(has_line(at_live_start, "asp_channel_events{channel=\"ticks\"} 2"));
  EXPECT_TRUE(has_line(at_live_start, "asp_channel_capacity{channel=\"ticks\"} 8"));
  EXPECT_TRUE(has_line(at_live_start,
                       "asp_stream_live_lag_seconds_bucket{stream=\"quotes\",le=\"+Inf\"} 0"));
  EXPECT_TRUE(has_line(at_live_start, "app_orders_sent_total{venue=\"X\\\"N\\\\AS\\n\"} 1"));
  EXPECT_TRUE(has_line(at_live_start, "app_position -2.5"));
  EXPECT_TRUE(has_line(at_live_start, "# TYPE asp_stream_live_lag_seconds histogram"));
  EXPECT_TRUE(has_line(at_live_start, "# TYPE asp_loop_posts_total counter"));
  EXPECT_TRUE(has_line(at_live_start, "# TYPE asp_channel_events gauge"));

  // At the last live event: both lags counted, by upper bound, cumulatively.
  const std::string lag = "asp_stream_live_lag_seconds";
  for (const auto& [le, count] : std::vector<std::pair<std::string, int>>{{"1e-05", 0},
                                                                          {"0.0001", 0},
                                                                          {"0.001", 0},
                                                                          {"0.01", 1},
                                                                          {"0.1", 1},
                                                                          {"1.0", 2},
                                                                          {"10.0", 2},
                                                                          {"60.0", 2},
                                                                          {"600.0", 2},
                                                                          {"+Inf", 2}}) {
    EXPECT_TRUE(has_line(
        at_end, lag + "_bucket{stream=\"quotes\",le=\"" + le + "\"} " + std::to_string(count)))
        << le << "\n"
        << at_end;
  }
  EXPECT_TRUE(has_line(at_end, lag + "_sum{stream=\"quotes\"} 0.255"));
  EXPECT_TRUE(has_line(at_end, lag + "_count{stream=\"quotes\"} 2"));
  EXPECT_TRUE(has_line(at_end, "asp_stream_events_total{stream=\"quotes\"} 5"));
  EXPECT_TRUE(has_line(at_end, "asp_channel_events{channel=\"ticks\"} 0"));
  EXPECT_TRUE(has_line(at_end, "app_orders_sent_total{venue=\"X\\\"N\\\\AS\\n\"} 2"));
  // The loop's counters as the loop kept them then: all but the run of the last event.
  const asp::loop_stats& s = l.stats();
  EXPECT_TRUE(has_line(at_end, "asp_loop_posts_total " + std::to_string(s.posts)));
  EXPECT_TRUE(has_line(at_end, "asp_loop_waits_total " + std::to_string(s.waits)));
  EXPECT_EQ(quotes.stats().live_lag.count, 2u);
  EXPECT_EQ(quotes.stats().live_lag.sum, 255ms);
}

TEST(Metrics, NamesPrometheusDoesNotAcceptAreRefused) {
  asp::manual_clock clock(T);
  asp::loop l(clock);
  asp::metrics::registry reg(l);
  auto one = [] { return 1.0; };
  EXPECT_THROW(reg.add_counter("9lives_total", "", {}, one), std::invalid_argument);
  EXPECT_THROW(reg.add_counter("a-b", "", {}, one), std::invalid_argument);
  EXPECT_THROW(reg.add_gauge("ok", "", {{"__reserved", "x"}}, one), std::invalid_argument);
  EXPECT_THROW(reg.add_gauge("ok", "", {{"a:b", "x"}}, one), std::invalid_argument);
  reg.add_counter("app_things_total", "", {{"a", "1"}}, one);
  reg.add_counter("app_things_total", "", {{"a", "2"}}, one);  // a second sample of it
  EXPECT_THROW(reg.add_gauge("app_things_total", "", {}, one), std::invalid_argument);
  EXPECT_THROW(reg.add_gauge("app_empty", "", {}, {}), std::invalid_argument);
  const std::string text = reg.collect();
  EXPECT_TRUE(has_line(text, "app_things_total{a=\"1\"} 1"));
  EXPECT_TRUE(has_line(text, "app_things_total{a=\"2\"} 1"));
  EXPECT_EQ(asp::metrics::escape_label_value("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
}

TEST(Metrics, ServedOverHttpDuringARunAndRefusedAfterIt) {
  asp::manual_clock clock(T);
  asp::loop l(clock);
  asp::channel<int> ticks(l, 8, asp::when_full::block, "ticks");
  asp::metrics::registry reg(l);
  std::promise<void> caught_up;
  asp::stream_options options;
  options.name = "quotes";
  options.on_live_start = [&] { caught_up.set_value(); };
  asp::stream_handle quotes =
      asp::start(l, asp::process_stream([](time_point, int) {}, history(), ticks, options));
  reg.add("quotes", quotes);
  asp::metrics::server server(reg, ":0", 200ms);
  ASSERT_NE(server.port(), 0);
  std::thread runner([&] { l.run(); });
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

// asp::metrics::registry: its text at known moments of a run on the manual clock, and the
// names it refuses.

#include <asp/metrics.hpp>

#include <asp/channel.hpp>
#include <asp/clock.hpp>
#include <asp/loop.hpp>
#include <asp/stream.hpp>

#include "metrics_support.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <utility>
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

TEST(Metrics, AStreamNotAddedMeasuresNoLag) {
  asp::manual_clock clock(T);
  asp::loop l(clock);
  asp::channel<int> ticks(l, 8);
  asp::stream_handle s =
      asp::start(l, asp::process_stream([](time_point, int) {}, asp::none, ticks));
  ticks.push(T - 1s, 1);
  ticks.close();
  l.run();
  EXPECT_EQ(s.stats().delivered, 1u);
  EXPECT_EQ(s.stats().live_lag.count, 0u);
}

}  // namespace

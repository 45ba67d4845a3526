// asp::data::add_metrics: a record log writer's counters in a metrics registry.

#include <asp/data/metrics.hpp>

#include <asp/clock.hpp>
#include <asp/loop.hpp>

#include "temp_dir.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace {

using namespace std::chrono_literals;
using asp::testing::temp_dir;

const asp::time_point t0{std::chrono::seconds(1735732800)};

std::string sample_of(const std::string& text, const std::string& name) {
  const std::size_t at = text.find("\n" + name + " ");
  if (at == std::string::npos) return "missing";
  const std::size_t value = at + name.size() + 2;
  return text.substr(value, text.find('\n', value) - value);
}

TEST(DataMetrics, AWritersRecordsWrittenAcknowledgedAndLastSync) {
  temp_dir dir;
  const std::string path = dir.path("m.asplog");
  asp::manual_clock clock(t0);
  asp::loop l(clock);
  asp::metrics::registry reg(l);
  asp::data::log_writer w(path, {{"quotes"}});
  asp::data::add_metrics(reg, "day", w);

  const std::string written = "asp_log_records_written_total{log=\"day\"}";
  const std::string acknowledged = "asp_log_records_acknowledged_total{log=\"day\"}";
  const std::string synced = "asp_log_last_sync_timestamp_seconds{log=\"day\"}";
  std::string text = reg.collect();
  EXPECT_EQ(sample_of(text, written), "0") << text;
  EXPECT_EQ(sample_of(text, acknowledged), "0");
  EXPECT_EQ(sample_of(text, synced), "0");  // no fsync of records yet
  EXPECT_FALSE(w.last_sync().has_value());

  w.write(0, t0, "a");
  w.write(0, t0 + 1s, "b");
  w.write(0, t0 + 2s, "c");
  text = reg.collect();
  EXPECT_EQ(sample_of(text, written), "3");
  EXPECT_EQ(sample_of(text, acknowledged), "0");

  const auto before = std::chrono::system_clock::now();
  w.sync();
  const auto after = std::chrono::system_clock::now();
  text = reg.collect();
  EXPECT_EQ(sample_of(text, acknowledged), "3");
  ASSERT_TRUE(w.last_sync().has_value());
  const auto at = std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          w.last_sync()->time_since_epoch()));
  EXPECT_LE(before, at);
  EXPECT_LE(at, after);
  EXPECT_EQ(std::stod(sample_of(text, synced)),
            std::chrono::duration<double>(w.last_sync()->time_since_epoch()).count());
  EXPECT_NE(text.find("# TYPE asp_log_records_written_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE asp_log_last_sync_timestamp_seconds gauge\n"), std::string::npos);
}

}  // namespace

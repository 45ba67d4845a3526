#pragma once

// A record log's writer in a metrics registry (asp/metrics.hpp).

#include <asp/data/log.hpp>
#include <asp/metrics.hpp>

#include <chrono>
#include <optional>
#include <string>

namespace asp::data {

/// Adds `writer`'s counters to `reg`, labelled log="name": `asp_log_records_written_total`,
/// `asp_log_records_acknowledged_total` (covered by an fsync) and
/// `asp_log_last_sync_timestamp_seconds` (the system clock's time of the last fsync of records,
/// 0 before the first). The writer must outlive the registry's scrapes.
inline void add_metrics(metrics::registry& reg, const std::string& name, const log_writer& writer) {
  reg.add_counter("asp_log_records_written_total", "Records written to the log", {{"log", name}},
                  [&writer] { return static_cast<double>(writer.written()); });
  reg.add_counter("asp_log_records_acknowledged_total",
                  "Records of the log covered by an fsync (durable)", {{"log", name}},
                  [&writer] { return static_cast<double>(writer.acknowledged()); });
  reg.add_gauge("asp_log_last_sync_timestamp_seconds",
                "When the log's records were last synced to disk, in seconds since the Unix epoch",
                {{"log", name}}, [&writer] {
                  const std::optional<time_point> at = writer.last_sync();
                  return at ? std::chrono::duration<double>(at->time_since_epoch()).count() : 0.0;
                });
}

}  // namespace asp::data

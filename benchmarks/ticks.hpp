#pragma once

// The ticks the replay benchmarks and the by-hand runs read: `struct { double price; double
// qty; }` (34 bytes a record in a log), K streams S0..S(K-1) taking turns, 1 µs apart from
// 2025-01-01, written with log_writer::write_value.

#include <asp/data/log.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace asp::bench {

struct tick {
  double price;
  double qty;
};

inline const asp::time_point ticks_t0 = std::chrono::sys_days{std::chrono::year{2025} / 1 / 1};

inline std::string tick_stream(std::int64_t k) {
  return "S" + std::to_string(k);
}

/// Tick `i`: its stream, time and value.
inline std::uint16_t tick_stream_of(std::int64_t i, std::int64_t streams) {
  return static_cast<std::uint16_t>(i % streams);
}
inline asp::time_point tick_time(std::int64_t i) {
  return ticks_t0 + std::chrono::microseconds(i);
}
inline tick tick_value(std::int64_t i) {
  return tick{100.0 + static_cast<double>(i % 1000) * 0.01, static_cast<double>(i % 7)};
}

/// Writes `n` ticks over `streams` streams into the log (or dataset) `path`.
inline void write_ticks(const std::string& path, std::int64_t n, std::int64_t streams,
                        asp::data::log_writer_options options) {
  std::vector<asp::data::log_stream> names;
  for (std::int64_t k = 0; k < streams; ++k) names.push_back({tick_stream(k)});
  asp::data::log_writer w(path, names, std::move(options));
  for (std::int64_t i = 0; i < n; ++i) {
    w.write_value(tick_stream_of(i, streams), tick_time(i), tick_value(i));
  }
  w.close();
}

}  // namespace asp::bench

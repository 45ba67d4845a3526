#pragma once

// A model of what a record log reader delivers, and the helpers that write and read the files
// the model describes (the log_scan and dataset tests share them).

#include <asp/data/log.hpp>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "test_support.hpp"

namespace asp::testing {

struct written {
  std::uint16_t stream;
  std::int64_t ns;  // since t0
  std::string payload;
};

// "stream@ns=payload"
inline std::string line(std::uint16_t stream, std::int64_t ns, std::string_view payload) {
  return std::to_string(stream) + "@" + std::to_string(ns) + "=" + std::string(payload);
}

// What a reader must deliver: each selected stream's records in file order, from the first at
// or after `start` up to (not including) its first record after `end`, merged by time, ties in
// file order.
inline std::vector<std::string> model(const std::vector<written>& file,
                                      const std::vector<bool>& selected,
                                      std::optional<std::int64_t> start,
                                      std::optional<std::int64_t> end) {
  std::vector<std::vector<std::size_t>> lanes(selected.size());
  std::vector<bool> ended(selected.size());
  for (std::size_t i = 0; i < file.size(); ++i) {
    const written& w = file[i];
    if (!selected[w.stream] || ended[w.stream] || (start && w.ns < *start)) continue;
    if (end && w.ns > *end) {
      ended[w.stream] = true;
      continue;
    }
    lanes[w.stream].push_back(i);
  }
  std::vector<std::size_t> at(lanes.size());
  std::vector<std::string> out;
  for (;;) {
    std::optional<std::size_t> best;
    for (std::size_t s = 0; s < lanes.size(); ++s) {
      if (at[s] == lanes[s].size()) continue;
      const std::size_t i = lanes[s][at[s]];
      if (!best || std::tie(file[i].ns, i) <
                       std::tie(file[lanes[*best][at[*best]]].ns, lanes[*best][at[*best]])) {
        best = s;
      }
    }
    if (!best) return out;
    const written& w = file[lanes[*best][at[*best]++]];
    out.push_back(line(w.stream, w.ns, w.payload));
  }
}

inline std::vector<std::string> read_all(asp::data::log_reader& reader) {
  std::vector<std::string> out;
  for (const auto& e : reader) {
    out.push_back(line(e.value.stream, (e.time - t0).count(), e.value.payload));
  }
  return out;
}

// A file of `n` records over `streams` streams. `disorder` 0: in time order; otherwise each
// stream's clock runs on its own and records jump back by up to `disorder` ns (ties included).
inline std::vector<written> make_records(std::size_t n, std::uint16_t streams,
                                         std::int64_t disorder, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<written> out;
  std::vector<std::int64_t> clocks(streams, 0);
  std::int64_t now = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const auto s = static_cast<std::uint16_t>(rng() % streams);
    std::int64_t t = 0;
    if (disorder == 0) {
      now += static_cast<std::int64_t>(rng() % 3);  // ties when 0
      t = now;
    } else {
      clocks[s] += static_cast<std::int64_t>(rng() % 5);
      t = clocks[s] - static_cast<std::int64_t>(rng() % static_cast<std::uint32_t>(disorder));
    }
    out.push_back({s, t, "p" + std::to_string(i)});
  }
  return out;
}

inline void write_file(const std::string& path, const std::vector<written>& records,
                       std::uint16_t streams, int zstd_level, std::size_t chunk_records) {
  std::vector<asp::data::log_stream> names;
  for (std::uint16_t s = 0; s < streams; ++s) names.push_back({"s" + std::to_string(s)});
  asp::data::log_writer w(
      path, names, {.chunk_records = chunk_records, .overwrite = true, .zstd_level = zstd_level});
  for (const written& r : records)
    w.write(r.stream, t0 + std::chrono::nanoseconds(r.ns), r.payload);
  w.close();
}

}  // namespace asp::testing

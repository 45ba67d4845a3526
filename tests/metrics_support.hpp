#pragma once

// What the metrics tests share: the run's moment, its history, and how a sample is found in
// the text.

#include <asp/event.hpp>
#include <asp/time.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace asp::testing {

/// 2025-01-01T12:00:00Z: the manual clock's reading in the metrics tests.
inline const time_point metrics_now{std::chrono::seconds(1735732800)};

/// Three events one second apart, the last one second before metrics_now.
inline std::vector<event<int>> metrics_history() {
  using namespace std::chrono_literals;
  return {{metrics_now - 3s, 1}, {metrics_now - 2s, 2}, {metrics_now - 1s, 3}};
}

/// Whether `text` has `line` as a whole line.
inline bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0;
}

}  // namespace asp::testing

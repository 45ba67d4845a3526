#pragma once

// What the stream and channel tests share: a loop on a manual clock a day after t0 and a log of
// "<virtual> <event> message" lines, both times in milliseconds relative to the real clock.

#include <asp/asp.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace asp::testing {

struct timeline : ::testing::Test, manual_loop {
  std::vector<std::string> log;
  time_point real = clock.now();

  void note(time_point event_time, const std::string& message) {
    log.push_back(rel(loop.now()) + " " + rel(event_time) + " " + message);
  }
  std::string rel(time_point t) const {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t - real).count();
    return std::to_string(ms);
  }
};

/// Events named `names`, one second apart from `start`.
inline std::vector<event<std::string>> names_from(time_point start,
                                                  std::vector<std::string> names) {
  std::vector<event<std::string>> out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    out.push_back({start + std::chrono::seconds(i), names[i]});
  }
  return out;
}

}  // namespace asp::testing

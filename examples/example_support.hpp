#pragma once

// What the examples share: the choice of real clock, and the original's log line.
//
// Every example runs for real on the system clock. Given `--manual-clock`, it runs on a manual
// clock that starts at 2025-01-01T12:00:00Z instead, so that its output is exact and ctest can
// compare it with a golden file.

#include <asp/asp.hpp>

#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

namespace example {

using namespace std::chrono_literals;

inline std::unique_ptr<asp::clock> make_clock(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--manual-clock") == 0) {
      return std::make_unique<asp::manual_clock>(
          std::chrono::sys_days{std::chrono::year{2025} / 1 / 1} + 12h);
    }
  }
  return std::make_unique<asp::system_clock>();
}

/// The original's three time columns: real time, virtual time, event time; then the message.
inline void log(asp::time_point event_time, const std::string& message) {
  asp::loop& l = asp::current_loop();
  std::cout << asp::format_time_of_day(l.clock().now()) << ' ' << asp::format_time_of_day(l.now())
            << ' ' << asp::format_time_of_day(event_time) << ' ' << message << std::endl;
}

/// For producer threads: waits until `clock` reads `t`. A manual clock is moved by the loop
/// alone, so with it the producer does not wait and relies on the events' own times.
inline void wait_until(asp::clock& clock, asp::time_point t) {
  if (dynamic_cast<asp::manual_clock*>(&clock) != nullptr) return;
  while (clock.now() < t) std::this_thread::sleep_for(t - clock.now());
}

}  // namespace example

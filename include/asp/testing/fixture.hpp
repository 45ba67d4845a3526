#pragma once

#include <asp/clock.hpp>
#include <asp/error.hpp>
#include <asp/loop.hpp>
#include <asp/time.hpp>

#include <chrono>
#include <stdexcept>
#include <string>

/// What tests of ASP code share (target asp::testing): a fixed origin, a loop on a manual
/// clock, helpers to look at failures and lifetimes. Independent of any test framework.
namespace asp::testing {

using namespace std::chrono_literals;

/// 2025-01-01T00:00:00Z, the origin of most test timelines.
inline const time_point t0 = std::chrono::sys_days{std::chrono::year{2025} / 1 / 1};

/// A loop on a manual clock that stands at `real` (a day after t0 by default, so that work
/// around t0 is history): live behaviour runs in zero real time and exactly. Members are
/// public; derive a test fixture from it, or hold one.
struct manual_loop {
  explicit manual_loop(time_point real = t0 + std::chrono::hours(24)) : clock(real), loop(clock) {}
  manual_loop(const manual_loop&) = delete;
  manual_loop& operator=(const manual_loop&) = delete;

  asp::manual_clock clock;
  asp::loop loop;
};

/// Counts how many live instances of it exist, to prove that pending work is destroyed.
struct lifetime_counter {
  int* m_alive;
  explicit lifetime_counter(int& alive) : m_alive(&alive) { ++*m_alive; }
  lifetime_counter(const lifetime_counter& other) : m_alive(other.m_alive) { ++*m_alive; }
  lifetime_counter& operator=(const lifetime_counter&) = delete;
  ~lifetime_counter() { --*m_alive; }
};

/// The asp::run_error that `run()` throws; throws std::logic_error (failing the test) when it
/// throws nothing.
template <class Run>
run_error run_error_of(Run run) {
  try {
    run();
  } catch (const run_error& e) {
    return e;
  }
  throw std::logic_error("expected the run to fail with asp::run_error; it did not");
}

/// Seconds since t0, for compact expectations.
inline double secs(time_point t) {
  return std::chrono::duration<double>(t - t0).count();
}

}  // namespace asp::testing

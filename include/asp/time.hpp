#pragma once

#include <chrono>
#include <string>

namespace asp {

/// A span of time: a signed 64-bit count of nanoseconds.
using duration = std::chrono::nanoseconds;

/// An absolute UTC instant with nanosecond resolution (DESIGN §1). Every event, timer and
/// clock reading in ASP is one of these; the representable range is roughly 1677–2262.
using time_point = std::chrono::sys_time<duration>;

/// Formats `t` as ISO 8601 in UTC with nanoseconds: `2025-01-01T00:00:01.000000000Z`.
/// Used in every error message that names a time.
std::string to_string(time_point t);

/// Formats the time of day of `t` as `HH:MM:SS.ffffff` (microseconds), the three-column
/// log format of the examples.
std::string format_time_of_day(time_point t);

/// `t + d`, clamped to the representable range instead of wrapping: `call_later` and `sleep`
/// of `duration::max()` mean "never", not a time in the past.
constexpr time_point saturating_add(time_point t, duration d) noexcept {
  duration::rep sum = 0;
  if (__builtin_add_overflow(t.time_since_epoch().count(), d.count(), &sum)) {
    return d > duration::zero() ? time_point::max() : time_point::min();
  }
  return time_point{duration{sum}};
}

}  // namespace asp

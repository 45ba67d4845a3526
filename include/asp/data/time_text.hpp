#pragma once

// Times as text: ISO 8601 and epoch counts, the two ways files write event times. GCC 12 has
// no std::chrono::parse, so this is ASP's own parser: exact to the nanosecond, no locale, no
// allocation on success.

#include <asp/time.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace asp::data {

/// How a file writes its event times.
enum class time_format {
  iso8601,        ///< `2025-01-01T09:30:00.000123Z`, with an offset or none (UTC)
  epoch_seconds,  ///< seconds since 1970-01-01 UTC, a fraction allowed (`1735723800.5`)
  epoch_millis,   ///< milliseconds, a fraction allowed
  epoch_micros,   ///< microseconds, a fraction allowed
  epoch_nanos,    ///< nanoseconds, an integer
};

/// Parses an ISO 8601 date-time: `YYYY-MM-DD`, then `T` (or `t` or a space) and `HH:MM`,
/// optional `:SS`, an optional fraction of 1 to 9 digits (`.` or `,`), then `Z`, an offset
/// (`+HH:MM`, `+HHMM`, `+HH`, `-...`) or nothing, which means UTC. A date alone is its
/// midnight, UTC. Leap seconds (`:60`) are refused. Returns std::nullopt, with what was
/// expected and where in `*why` when given, for anything else.
std::optional<time_point> parse_iso8601(std::string_view text, std::string* why = nullptr);

/// Parses a count since the epoch in `format`'s unit (`-` allowed, a fraction allowed except
/// for nanoseconds, exact: no floating point). Returns std::nullopt (and why) when `text` is
/// not one, has more precision than a nanosecond, or lies outside the range of time_point.
std::optional<time_point> parse_epoch(std::string_view text, time_format format,
                                      std::string* why = nullptr);

/// Parses `text` as `format` says.
std::optional<time_point> parse_time(std::string_view text, time_format format,
                                     std::string* why = nullptr);

/// Formats `t` in `format`: ISO 8601 with nanoseconds and `Z` (as asp::to_string), or the
/// exact epoch count in the unit (with the fraction that a coarser unit needs, trailing zeros
/// dropped).
std::string format_time(time_point t, time_format format);

/// The name of a format as the tool spells it: "iso8601", "s", "ms", "us", "ns".
std::string_view to_string(time_format format) noexcept;

/// The format named `name` ("iso8601", "s", "ms", "us", "ns"), or std::nullopt.
std::optional<time_format> time_format_named(std::string_view name) noexcept;

}  // namespace asp::data

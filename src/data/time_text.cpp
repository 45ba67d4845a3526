#include <asp/data/time_text.hpp>

#include <asp/data/shown.hpp>

#include <charconv>
#include <chrono>
#include <cstdint>
#include <limits>

namespace asp::data {

namespace {

__extension__ typedef __int128 i128;  // wide enough for any overflow check here

constexpr i128 nanos_per_second = 1'000'000'000;

// The text being parsed, with its position, so that every refusal can say where.
struct cursor {
  std::string_view text;
  std::size_t pos = 0;
  std::string* why;

  bool at_end() const { return pos == text.size(); }
  char peek() const { return at_end() ? '\0' : text[pos]; }

  std::nullopt_t fail(std::string_view expected) const {
    if (why != nullptr) {
      *why = "expected " + std::string(expected) + " at character " + std::to_string(pos + 1);
      if (at_end()) {
        *why += ", found the end";
      } else {
        *why += ", found " + shown(text.substr(pos, 1));
      }
    }
    return std::nullopt;
  }

  // Exactly `n` digits.
  bool digits(int n, int& out) {
    int value = 0;
    for (int i = 0; i < n; ++i) {
      const char c = peek();
      if (c < '0' || c > '9') return false;
      value = value * 10 + (c - '0');
      ++pos;
    }
    out = value;
    return true;
  }

  bool take(char c) {
    if (peek() != c) return false;
    ++pos;
    return true;
  }
};

std::optional<time_point> from_nanos(i128 nanos, std::string* why) {
  if (nanos < std::numeric_limits<std::int64_t>::min() ||
      nanos > std::numeric_limits<std::int64_t>::max()) {
    if (why != nullptr) *why = "outside the range of times (1677-09-21 to 2262-04-11)";
    return std::nullopt;
  }
  return time_point{duration{static_cast<std::int64_t>(nanos)}};
}

// Digits of a nanosecond count below one unit of an epoch format (9 for seconds); -1 for ISO.
constexpr int unit_digits_of(time_format format) {
  switch (format) {
    case time_format::iso8601:
      return -1;
    case time_format::epoch_seconds:
      return 9;
    case time_format::epoch_millis:
      return 6;
    case time_format::epoch_micros:
      return 3;
    case time_format::epoch_nanos:
      return 0;
  }
  return -1;
}

constexpr std::int64_t unit_scale(int digits) {
  std::int64_t scale = 1;
  for (int i = 0; i < digits; ++i) scale *= 10;
  return scale;
}

}  // namespace

std::optional<time_point> parse_iso8601(std::string_view text, std::string* why) {
  cursor c{text, 0, why};
  int year = 0, month = 0, day = 0;
  if (!c.digits(4, year)) return c.fail("a four-digit year");
  if (!c.take('-')) return c.fail("'-' after the year");
  if (!c.digits(2, month)) return c.fail("a two-digit month");
  if (!c.take('-')) return c.fail("'-' after the month");
  if (!c.digits(2, day)) return c.fail("a two-digit day");
  const std::chrono::year_month_day date{std::chrono::year{year},
                                         std::chrono::month{static_cast<unsigned>(month)},
                                         std::chrono::day{static_cast<unsigned>(day)}};
  if (!date.ok()) {
    if (why != nullptr) *why = "no such date: " + std::string(text.substr(0, 10));
    return std::nullopt;
  }
  const i128 days = std::chrono::sys_days{date}.time_since_epoch().count();
  i128 nanos = days * 86'400 * nanos_per_second;
  if (c.at_end()) return from_nanos(nanos, why);

  if (!(c.take('T') || c.take('t') || c.take(' '))) return c.fail("'T' after the date");
  int hour = 0, minute = 0, second = 0;
  if (!c.digits(2, hour) || hour > 23) return c.fail("an hour from 00 to 23");
  if (!c.take(':')) return c.fail("':' after the hour");
  if (!c.digits(2, minute) || minute > 59) return c.fail("minutes from 00 to 59");
  if (c.take(':')) {
    if (!c.digits(2, second) || second > 59) return c.fail("seconds from 00 to 59");
    if (c.take('.') || c.take(',')) {
      i128 fraction = 0;
      int count = 0;
      while (c.peek() >= '0' && c.peek() <= '9') {
        if (++count > 9) return c.fail("at most 9 fractional digits (nanoseconds)");
        fraction = fraction * 10 + (c.peek() - '0');
        ++c.pos;
      }
      if (count == 0) return c.fail("a digit after the decimal point");
      for (int i = count; i < 9; ++i) fraction *= 10;
      nanos += fraction;
    }
  }
  nanos += ((i128{hour} * 60 + minute) * 60 + second) * nanos_per_second;

  if (c.take('Z') || c.take('z') || c.at_end()) {
    if (!c.at_end()) return c.fail("nothing after the zone");
    return from_nanos(nanos, why);
  }
  const char sign = c.peek();
  if (sign != '+' && sign != '-') return c.fail("'Z', '+HH:MM', '-HH:MM' or the end");
  ++c.pos;
  int offset_hours = 0, offset_minutes = 0;
  if (!c.digits(2, offset_hours) || offset_hours > 23) return c.fail("an offset's hours");
  if (!c.at_end()) {
    c.take(':');
    if (!c.digits(2, offset_minutes) || offset_minutes > 59) {
      return c.fail("an offset's minutes");
    }
  }
  if (!c.at_end()) return c.fail("nothing after the offset");
  const i128 offset = (i128{offset_hours} * 60 + offset_minutes) * 60 * nanos_per_second;
  // Local time = UTC + offset.
  nanos += sign == '+' ? -offset : offset;
  return from_nanos(nanos, why);
}

std::optional<time_point> parse_epoch(std::string_view text, time_format format, std::string* why) {
  const int unit_digits = unit_digits_of(format);
  if (unit_digits < 0) return parse_iso8601(text, why);
  // The common case first: a whole count that fits (no fraction), as one from_chars.
  {
    std::int64_t count = 0;
    const char* end = text.data() + text.size();
    const auto [p, ec] = std::from_chars(text.data(), end, count);
    std::int64_t scaled = 0;
    if (ec == std::errc() && p == end && !text.empty() &&
        !__builtin_mul_overflow(count, unit_scale(unit_digits), &scaled)) {
      return time_point{duration{scaled}};
    }
  }
  cursor c{text, 0, why};
  const bool negative = c.take('-');
  i128 whole = 0;
  int count = 0;
  while (c.peek() >= '0' && c.peek() <= '9') {
    whole = whole * 10 + (c.peek() - '0');
    ++c.pos;
    if (++count > 20) return c.fail("a count that fits in 64 bits");
  }
  if (count == 0) return c.fail("a digit");
  i128 fraction = 0;
  int fraction_digits = 0;
  if (c.take('.')) {
    while (c.peek() >= '0' && c.peek() <= '9') {
      if (++fraction_digits > unit_digits) {
        return c.fail(unit_digits == 0 ? "an integer count of nanoseconds"
                                       : "no digits beyond the nanosecond");
      }
      fraction = fraction * 10 + (c.peek() - '0');
      ++c.pos;
    }
    if (fraction_digits == 0) return c.fail("a digit after the decimal point");
  }
  if (!c.at_end())
    return c.fail(unit_digits == 0 ? "a digit or the end" : "a digit, '.' or the end");
  i128 scale = 1;
  for (int i = 0; i < unit_digits; ++i) scale *= 10;
  for (int i = fraction_digits; i < unit_digits; ++i) fraction *= 10;
  const i128 nanos = whole * scale + fraction;
  return from_nanos(negative ? -nanos : nanos, why);
}

std::optional<time_point> parse_time(std::string_view text, time_format format, std::string* why) {
  if (format == time_format::iso8601) return parse_iso8601(text, why);
  return parse_epoch(text, format, why);
}

std::string format_time(time_point t, time_format format) {
  const int unit_digits = unit_digits_of(format);
  if (unit_digits < 0) return asp::to_string(t);
  const std::int64_t count = t.time_since_epoch().count();
  // The magnitude, without overflow for the most negative count.
  const std::uint64_t magnitude = count < 0 ? std::uint64_t{0} - static_cast<std::uint64_t>(count)
                                            : static_cast<std::uint64_t>(count);
  std::uint64_t scale = 1;
  for (int i = 0; i < unit_digits; ++i) scale *= 10;
  std::string out = count < 0 ? "-" : "";
  out += std::to_string(magnitude / scale);
  std::uint64_t rest = magnitude % scale;
  if (rest != 0) {
    std::string digits(static_cast<std::size_t>(unit_digits), '0');
    for (int i = unit_digits - 1; i >= 0; --i) {
      digits[static_cast<std::size_t>(i)] = static_cast<char>('0' + rest % 10);
      rest /= 10;
    }
    while (digits.back() == '0') digits.pop_back();
    out += '.';
    out += digits;
  }
  return out;
}

std::string_view to_string(time_format format) noexcept {
  switch (format) {
    case time_format::iso8601:
      return "iso8601";
    case time_format::epoch_seconds:
      return "s";
    case time_format::epoch_millis:
      return "ms";
    case time_format::epoch_micros:
      return "us";
    case time_format::epoch_nanos:
      return "ns";
  }
  return "iso8601";
}

std::optional<time_format> time_format_named(std::string_view name) noexcept {
  if (name == "iso8601") return time_format::iso8601;
  if (name == "s") return time_format::epoch_seconds;
  if (name == "ms") return time_format::epoch_millis;
  if (name == "us") return time_format::epoch_micros;
  if (name == "ns") return time_format::epoch_nanos;
  return std::nullopt;
}

}  // namespace asp::data

// The tool's arguments: durations, times, sizes, addresses. Free of the tool's I/O, so that
// the fuzzer (tests/fuzz/arguments_fuzz.cpp) builds them alone.
#include "arguments.hpp"

#include <asp/data/shown.hpp>
#include <asp/data/time_text.hpp>

#include <cctype>
#include <charconv>
#include <limits>

namespace asp::tool {

data::fsync_policy fsync_of(const std::string& text) {
  if (text == "close") return {};
  if (text == "every") return {.every_records = 1};
  std::size_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec == std::errc() && end == text.data() + text.size() && n > 0) return {.every_records = n};
  if (const std::optional<duration> d = parse_duration(text); d && *d > duration::zero()) {
    return {.every = *d};
  }
  throw usage_error(
      "--fsync: expected every, close, a number of records or a duration (100ms, "
      "1s), found '" +
      text + "'");
}

std::optional<duration> parse_duration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  __extension__ typedef __int128 wide;
  wide total = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    wide whole = 0;
    wide fraction = 0;
    wide fraction_scale = 1;
    std::size_t digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      whole = whole * 10 + (text[pos++] - '0');
      if (++digits > 18) return std::nullopt;
    }
    if (pos < text.size() && text[pos] == '.') {
      ++pos;
      while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
        if (fraction_scale < 1'000'000'000'000'000'000) {
          fraction = fraction * 10 + (text[pos] - '0');
          fraction_scale *= 10;
        }
        ++pos;
        ++digits;
      }
    }
    if (digits == 0) return std::nullopt;
    std::size_t unit_end = pos;
    while (unit_end < text.size() && std::isalpha(static_cast<unsigned char>(text[unit_end]))) {
      ++unit_end;
    }
    const std::string_view unit = text.substr(pos, unit_end - pos);
    wide scale = 0;
    if (unit == "h")
      scale = wide{3'600'000'000'000};
    else if (unit == "m" || unit == "min")
      scale = wide{60'000'000'000};
    else if (unit == "s")
      scale = 1'000'000'000;
    else if (unit == "ms")
      scale = 1'000'000;
    else if (unit == "us")
      scale = 1'000;
    else if (unit == "ns")
      scale = 1;
    else
      return std::nullopt;
    total += whole * scale + fraction * scale / fraction_scale;
    if (total > std::numeric_limits<duration::rep>::max()) return std::nullopt;
    pos = unit_end;
  }
  return duration{static_cast<duration::rep>(total)};
}

time_point parse_when(const std::string& text, std::optional<time_point> origin,
                      const std::string& option) {
  if (text.starts_with("+")) {
    const std::optional<duration> offset = parse_duration(std::string_view(text).substr(1));
    if (!offset) {
      throw usage_error(option + ": expected +OFFSET like +90s, +1h30m or +250ms, found '" + text +
                        "'");
    }
    if (!origin) throw usage_error(option + " " + text + ": the file has no records to count from");
    if (*offset > time_point::max() - *origin) {
      throw usage_error(option + " " + text + ": past the end of the time range (2262)");
    }
    return *origin + *offset;
  }
  std::string why;
  if (const auto t = data::parse_iso8601(text, &why)) return *t;
  throw usage_error(option + ": expected an ISO 8601 time or +OFFSET, found '" + text + "' (" +
                    why + ")");
}

data::split_policy parse_split(const std::string& size, const std::string& every) {
  data::split_policy split;
  if (!size.empty()) {
    std::uint64_t n = 0;
    const char* end = size.data() + size.size();
    const auto [rest, ec] = std::from_chars(size.data(), end, n);
    const std::string_view unit(rest, static_cast<std::size_t>(end - rest));
    int shift = -1;
    if (unit.empty() || unit == "B") shift = 0;
    if (unit == "K" || unit == "KiB") shift = 10;
    if (unit == "M" || unit == "MiB") shift = 20;
    if (unit == "G" || unit == "GiB") shift = 30;
    if (unit == "T" || unit == "TiB") shift = 40;
    if (ec != std::errc() || shift < 0 || n == 0 || n > (~std::uint64_t{0} >> shift)) {
      throw usage_error(
          "--split-size: expected a size in bytes, with K, M, G or T (powers of "
          "1024), found '" +
          size + "'");
    }
    split.bytes = n << shift;
  }
  if (!every.empty()) {
    const std::optional<duration> d = parse_duration(every);
    if (!d || *d <= duration::zero()) {
      throw usage_error("--split-duration: expected a duration (1h, 30m, 90s), found '" + every +
                        "'");
    }
    split.duration = *d;
  }
  return split;
}

std::pair<std::string, std::uint16_t> host_port(std::string_view rest, std::string_view dflt_host,
                                                const std::string& option, bool any_port) {
  const std::size_t colon = rest.rfind(':');
  std::uint16_t port = 0;
  if (colon == std::string_view::npos ||
      std::from_chars(rest.data() + colon + 1, rest.data() + rest.size(), port).ec != std::errc() ||
      (port == 0 && !any_port)) {
    throw usage_error(option + ": expected HOST:PORT after the scheme, found " + data::shown(rest));
  }
  std::string host(rest.substr(0, colon));
  if (host.empty()) host = dflt_host;
  return {host, port};
}

nats_address parse_nats_address(const std::string& url, const std::string& option) {
  constexpr std::string_view scheme = "nats://";
  const std::string_view rest =
      std::string_view(url).substr(url.starts_with(scheme) ? scheme.size() : 0);
  const std::size_t slash = rest.find('/');
  const std::size_t second = slash == std::string_view::npos ? slash : rest.find('/', slash + 1);
  if (!url.starts_with("nats://") || slash == 0 || second == std::string_view::npos ||
      second == slash + 1 || second + 1 == rest.size()) {
    throw usage_error(
        option + ": expected nats://HOST:PORT[,HOST:PORT...]/STREAM/SUBJECT, found '" + url + "'");
  }
  nats_address a;
  std::string_view hosts = rest.substr(0, slash);
  while (!hosts.empty()) {
    const std::size_t comma = hosts.find(',');
    std::string_view one = hosts.substr(0, comma);
    if (!a.servers.empty()) a.servers += ',';
    if (!one.starts_with("nats://")) a.servers += "nats://";
    a.servers += one;
    if (comma == std::string_view::npos) break;
    hosts.remove_prefix(comma + 1);
  }
  a.stream = std::string(rest.substr(slash + 1, second - slash - 1));
  a.subject = std::string(rest.substr(second + 1));
  return a;
}

}  // namespace asp::tool

// Fuzzes the tool's arguments: durations, times and offsets, sizes, --fsync, HOST:PORT and NATS
// addresses. Anything is either parsed or refused with a usage_error; a parsed duration is
// never negative, and an offset from a time lands where the duration says.
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <string>

#include "../../tools/asp/arguments.hpp"

namespace {

template <class F>
void refused_only_as_usage(F&& f) {
  try {
    f();
  } catch (const asp::tool::usage_error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace asp::tool;
  const std::string text(reinterpret_cast<const char*>(data), size);
  const asp::time_point origin{std::chrono::seconds(1'735'689'600)};
  if (const auto d = parse_duration(text)) {
    if (*d < asp::duration::zero()) std::abort();
    if (*d <= asp::time_point::max() - origin) {
      if (parse_when("+" + text, origin, "--start") != origin + *d) std::abort();
    } else {
      refused_only_as_usage([&] { parse_when("+" + text, origin, "--start"); });
    }
  }
  refused_only_as_usage([&] { parse_when(text, origin, "--start"); });
  refused_only_as_usage([&] { parse_when(text, std::nullopt, "--end"); });
  refused_only_as_usage([&] { parse_split(text, ""); });
  refused_only_as_usage([&] { parse_split("", text); });
  refused_only_as_usage([&] { fsync_of(text); });
  refused_only_as_usage([&] { host_port(text, "127.0.0.1", "--to", true); });
  refused_only_as_usage([&] { parse_nats_address(text, "--from"); });
  return 0;
}

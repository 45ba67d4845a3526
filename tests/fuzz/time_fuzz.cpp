// Fuzzes the time parsers: anything they accept formats back and parses to the same time.
#include <asp/data/time_text.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  using asp::data::time_format;
  for (const time_format f :
       {time_format::iso8601, time_format::epoch_seconds, time_format::epoch_millis,
        time_format::epoch_micros, time_format::epoch_nanos}) {
    std::string why;
    const auto t = asp::data::parse_time(text, f, &why);
    if (!t) {
      if (why.empty()) std::abort();  // every refusal says why
      continue;
    }
    const std::string again = asp::data::format_time(*t, f);
    if (asp::data::parse_time(again, f) != t) std::abort();
  }
  return 0;
}

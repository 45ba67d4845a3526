#pragma once

// The trades of the JetStream examples: trade i is on symbol i mod 6, at 14:30 UTC on
// 2 January 2025 plus i quarter-seconds, sent as its bytes (asp::data::codec of a trivially
// copyable type) on subject "trades.<symbol>". The server maps that subject to
// "trades.<partition>.<symbol>" (`mappings` in its configuration, partition(4, 1)), so a
// process per partition sees each symbol in exactly one of them.

#include <asp/time.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

struct trade {
  std::array<char, 8> symbol{};
  double price = 0;
  std::int64_t size = 0;

  std::string_view name() const { return {symbol.data()}; }
};

inline constexpr std::array<std::string_view, 6> symbols{"AAPL", "MSFT", "GOOG",
                                                         "AMZN", "TSLA", "META"};

inline trade trade_number(int i) {
  trade t;
  const std::string_view s = symbols[static_cast<std::size_t>(i) % symbols.size()];
  s.copy(t.symbol.data(), s.size());
  t.price = 100.0 + static_cast<double>((i * 37) % 200) / 4.0;
  t.size = 100 * (1 + i % 5);
  return t;
}

inline asp::time_point trade_time(int i) {
  using namespace std::chrono;
  return sys_days{year{2025} / 1 / 2} + 14h + 30min + milliseconds(250) * i;
}

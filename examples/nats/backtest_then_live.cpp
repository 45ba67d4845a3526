// Volume-weighted average prices per symbol over the JetStream stream TRADES: history from a
// start time, fast-forward, then live trades as they are published, until LIVE of them have
// come: `nats_backtest_then_live nats://127.0.0.1:4222 2025-01-02T14:31:00Z 3`.
#include <asp/asp.hpp>
#include <asp/data/time_text.hpp>
#include <asp/nats/source.hpp>

#include "trades.hpp"

#include <cstdio>
#include <iostream>
#include <map>
#include <string>

int main(int argc, char** argv) {
  if (argc != 4) return std::cerr << "usage: nats_backtest_then_live SERVERS START LIVE\n", 2;
  const auto start = asp::data::parse_iso8601(argv[2]);
  if (!start) return std::cerr << "not a time: " << argv[2] << '\n', 2;
  const int live_wanted = std::stoi(argv[3]);
  asp::nats::connection nats(argv[1]);
  asp::loop loop;
  asp::nats::subject_source<trade> trades(
      loop, nats, {.stream = "TRADES", .subject = "trades.*.*", .start = *start});

  struct totals {
    double value = 0;
    double volume = 0;
  };
  std::map<std::string, totals> vwap;
  int history = 0;
  int live = -1;  // counts once the history is done
  auto on_trade = [&](asp::time_point t, const asp::nats::message<trade>& m) {
    totals& s = vwap[std::string(m.value.name())];
    s.value += m.value.price * static_cast<double>(m.value.size);
    s.volume += static_cast<double>(m.value.size);
    if (live < 0) {
      ++history;
      return;
    }
    std::printf("live %s #%llu %s %lld@%.2f vwap %.4f\n", asp::to_string(t).c_str(),
                static_cast<unsigned long long>(m.sequence), m.subject.c_str(),
                static_cast<long long>(m.value.size), m.value.price, s.value / s.volume);
    if (++live == live_wanted) trades.close();
  };
  auto caught_up = [&] {
    std::printf("history from %s: %d trades\n", argv[2], history);
    for (const auto& [symbol, s] : vwap)
      std::printf("  %s vwap %.4f\n", symbol.c_str(), s.value / s.volume);
    std::fflush(stdout);
    live = 0;
    if (live_wanted == 0) trades.close();
  };
  loop.run({}, asp::process_stream(on_trade, trades.past(), trades.live(),
                                   {.name = "trades", .on_live_start = caught_up}));
}

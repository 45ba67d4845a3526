// VWAP (adapted from csp): the volume-weighted average price of the last two minutes, printed by
// a one-minute timer from the first price to the last, with the cumulative volume. Each price
// arrives as a (price, volume) tuple, unpacked into the callback's arguments.
//
// The timer's callback prints with call_soon, so that a price due at the same instant as a tick
// is counted in it, whatever the order in which the two were scheduled.
#include <cstdio>
#include <deque>
#include <tuple>

#include "example_support.hpp"

using namespace std::chrono_literals;

int main(int argc, char** argv) {
  auto clock = example::make_clock(argc, argv);
  asp::loop loop(*clock);
  const asp::time_point st = std::chrono::sys_days{std::chrono::year{2020} / 1 / 1};
  const auto minutes = [&](double m) {
    return st + std::chrono::duration_cast<asp::duration>(
                    std::chrono::duration<double, std::ratio<60>>(m));
  };
  const std::vector<double> at{1.3, 2.3, 3.8, 4.1, 4.4, 5.1, 5.3, 6.3, 8.7};
  const std::vector<double> price{12.653, 14.210, 13.099, 12.892, 17.328,
                                  18.543, 17.564, 19.023, 19.763};
  const std::vector<int> volume{100, 115, 85, 90, 95, 185, 205, 70, 65};
  std::vector<asp::event<std::tuple<double, int>>> trades;
  for (std::size_t i = 0; i < at.size(); ++i)
    trades.push_back({minutes(at[i]), {price[i], volume[i]}});

  struct fill {
    asp::time_point time;
    double price;
    int volume;
  };
  std::deque<fill> window;
  long cumulative = 0;
  auto on_trade = [&](asp::time_point t, double p, int v) {
    window.push_back({t, p, v});
    cumulative += v;
  };
  auto print = [&](asp::time_point tick) {
    while (!window.empty() && window.front().time <= tick - 2min) window.pop_front();
    double notional = 0;
    long volume_in_window = 0;
    for (const fill& f : window) {
      notional += f.price * f.volume;
      volume_in_window += f.volume;
    }
    char line[96];
    if (volume_in_window == 0) {
      std::snprintf(line, sizeof line,
                    "vwap(2min)=none (no trade in the window) cumulative volume=%ld", cumulative);
    } else {
      std::snprintf(line, sizeof line, "vwap(2min)=%.4f cumulative volume=%ld",
                    notional / static_cast<double>(volume_in_window), cumulative);
    }
    example::log(tick, line);
  };
  loop.run({}, asp::process_stream(on_trade, trades, asp::none, {.name = "trades"}),
           asp::timer(
               1min, [&] { asp::call_soon(print); }, minutes(1.3), minutes(8.7)));
}

// Trade PnL (adapted from csp): bid/ask quotes give a mid price; buy and sell trades build two
// positions whose PnL against the mid is printed on each trade. No start time is given: the
// clock starts at the first quote, and both streams replay in chronological order.
#include <cstdio>

#include "example_support.hpp"

using namespace std::chrono_literals;

namespace {

struct quote {
  bool bid;
  double price;
};

struct trade {
  double price;
  int qty;
  bool buy;
};

struct position {
  int qty = 0;
  double notional = 0;  // sum of qty × price
  void add(const trade& t) {
    qty += t.qty;
    notional += t.qty * t.price;
  }
  double pnl(double mid) const { return qty == 0 ? 0.0 : qty * (mid - notional / qty); }
};

std::string format(const char* pattern, double a, double b = 0, double c = 0) {
  char line[128];
  std::snprintf(line, sizeof line, pattern, a, b, c);
  return line;
}

}  // namespace

int main(int argc, char** argv) {
  auto clock = example::make_clock(argc, argv);
  asp::loop loop(*clock);
  const asp::time_point st = std::chrono::sys_days{std::chrono::year{2020} / 1 / 1};
  std::vector<asp::event<quote>> quotes{{st + 500ms, {true, 99.0}},    {st + 600ms, {false, 99.1}},
                                        {st + 1300ms, {false, 99.2}},  {st + 1500ms, {true, 99.1}},
                                        {st + 4200ms, {false, 99.25}}, {st + 5s, {true, 99.2}}};
  std::vector<asp::event<trade>> trades{
      {st + 1s, {100.0, 50, true}},   {st + 2s, {101.5, 500, false}},
      {st + 3s, {100.50, 100, true}}, {st + 4s, {101.2, 500, false}},
      {st + 5s, {101.3, 500, false}}, {st + 6s, {101.4, 500, true}}};

  std::optional<double> bid, ask, mid;
  position buys, sells;
  auto on_quote = [&](asp::time_point t, const quote& q) {
    (q.bid ? bid : ask) = q.price;
    if (bid && ask) {
      mid = (*bid + *ask) / 2;
      example::log(t, format("mid=%.4f", *mid));
    }
  };
  auto on_trade = [&](asp::time_point t, const trade& tr) {
    (tr.buy ? buys : sells).add(tr);
    if (!mid) return;
    const double buy_pnl = buys.pnl(*mid);
    const double sell_pnl = sells.pnl(*mid);
    example::log(
        t, format("pnl=%.4f buy_pnl=%.4f sell_pnl=%.4f", buy_pnl - sell_pnl, buy_pnl, sell_pnl));
  };
  loop.run({}, asp::process_stream(on_quote, quotes, asp::none, {.name = "quotes"}),
           asp::process_stream(on_trade, trades, asp::none, {.name = "trades"}));
}

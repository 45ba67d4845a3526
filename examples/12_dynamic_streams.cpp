// Dynamic streams (adapted from csp): a classifier reads a minute-old order flow and, the first
// time it sees a symbol, starts a stream of that symbol's orders from inside its callback. The
// new streams join the merge: everything prints in chronological order.
#include <cstdio>
#include <set>

#include "example_support.hpp"

using namespace std::chrono_literals;

namespace {

struct order {
  std::string symbol;
  double price;
  int qty;
};

// By value: the generator's frame outlives the callback that starts it.
asp::generator<asp::event<order>> orders_of(std::vector<asp::event<order>> orders,
                                            std::string symbol, asp::time_point from) {
  for (const asp::event<order>& o : orders) {
    if (o.value.symbol == symbol && o.time >= from) co_yield o;
  }
}

}  // namespace

int main(int argc, char** argv) {
  auto clock = example::make_clock(argc, argv);
  asp::loop loop(*clock);
  const asp::time_point start = clock->now() - 60s;
  std::vector<asp::event<order>> orders{
      {start + 0s, {"AAPL", 135, 100}}, {start + 1s, {"FB", 350, -200}},
      {start + 2s, {"GME", 210, 1000}}, {start + 3s, {"AAPL", 138, -100}},
      {start + 4s, {"FB", 330, 100}},   {start + 5s, {"AMC", 57, 400}},
      {start + 6s, {"GME", 200, 800}}};
  std::set<std::string> known;
  auto print_order = [](asp::time_point t, const order& o) {
    char line[96];
    std::snprintf(line, sizeof line, "[%s] %d @ %.2f", o.symbol.c_str(), o.qty, o.price);
    example::log(t, line);
  };
  auto classify = [&](asp::time_point t, const order& o) {
    if (!known.insert(o.symbol).second) return;
    example::log(t, "New symbol detected: " + o.symbol);
    asp::start(asp::process_stream(print_order, orders_of(orders, o.symbol, t), asp::none,
                                   {.name = o.symbol}))
        .detach();
  };
  loop.run({}, asp::process_stream(classify, orders, asp::none, {.name = "classifier"}));
}

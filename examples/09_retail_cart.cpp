// Retail cart (adapted from csp): user 42 gets 10% off items added in the first minute. The
// expiry is a call_later scheduled before the run, counted from the run's start.
#include <cstdio>
#include <map>

#include "example_support.hpp"

using namespace std::chrono_literals;

namespace {

struct cart_update {
  std::string item;
  int qty;  // negative: removed
  double price;
};

}  // namespace

int main(int argc, char** argv) {
  auto clock = example::make_clock(argc, argv);
  asp::loop loop(*clock);
  const asp::time_point st = std::chrono::sys_days{std::chrono::year{2020} / 1 / 1};
  std::vector<asp::event<cart_update>> updates{{st + 15s, {"X", 1, 10}},
                                               {st + 30s, {"Y", 2, 15}},
                                               {st + 45s, {"Y", -1, 0}},
                                               {st + 75s, {"Z", 1, 20}}};
  bool discount = true;
  // Unit prices paid, per item, in the order added: a removal takes back the last one added.
  std::map<std::string, std::vector<double>> cart;
  loop.call_later(60s, [&](asp::time_point t) {
    discount = false;
    example::log(t, "Discount expired for user 42");
  });
  auto on_update = [&](asp::time_point t, const cart_update& u) {
    auto& units = cart[u.item];
    for (int i = 0; i < u.qty; ++i) units.push_back(discount ? u.price * 0.9 : u.price);
    for (int i = 0; i > u.qty && !units.empty(); --i) units.pop_back();
    double total = 0;
    std::size_t items = 0;
    for (const auto& [name, paid] : cart) {
      for (double p : paid) total += p;
      items += paid.size();
    }
    char line[96];
    std::snprintf(line, sizeof line, "user 42 %s %d %s: total=%.2f items=%zu",
                  u.qty > 0 ? "added" : "removed", u.qty > 0 ? u.qty : -u.qty, u.item.c_str(),
                  total, items);
    example::log(t, line);
  };
  loop.run({.start = st}, asp::process_stream(on_update, updates, asp::none, {.name = "cart"}));
}

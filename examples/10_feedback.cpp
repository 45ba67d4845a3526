// Feedback (adapted from csp): live, an algo sends an order, the exchange acknowledges each
// order 0.7 s after receiving it, and the algo sends the next order (price + 0.01) 0.3 s after
// each acknowledgement, up to order 10 — two parties talking through call_later.
#include <cstdio>

#include "example_support.hpp"

using namespace std::chrono_literals;

namespace {

struct order {
  int id;
  double price;
  int qty;
};

class exchange;

class algo {
 public:
  explicit algo(exchange& venue) : m_venue(&venue) {}
  void send(asp::time_point t, order o);
  void on_ack(asp::time_point t, order o);

 private:
  exchange* m_venue;
};

class exchange {
 public:
  void attach(algo& client) { m_client = &client; }
  void receive(asp::time_point, order o) {
    asp::call_later(700ms, [this, o](asp::time_point t) {
      char line[64];
      std::snprintf(line, sizeof line, "exchange acknowledged order %d", o.id);
      example::log(t, line);
      m_client->on_ack(t, o);
    });
  }

 private:
  algo* m_client = nullptr;
};

void algo::send(asp::time_point t, order o) {
  char line[96];
  std::snprintf(line, sizeof line, "algo sends order %d: BUY %d @ %.2f", o.id, o.qty, o.price);
  example::log(t, line);
  m_venue->receive(t, o);
}

void algo::on_ack(asp::time_point, order o) {
  if (o.id == 10) return;
  asp::call_later(300ms, [this, o](asp::time_point t) {
    send(t, {o.id + 1, o.price + 0.01, o.qty});
  });
}

}  // namespace

int main(int argc, char** argv) {
  auto clock = example::make_clock(argc, argv);
  asp::loop loop(*clock);
  exchange venue;
  algo trader(venue);
  venue.attach(trader);
  loop.call_soon([&](asp::time_point t) { trader.send(t, {1, 100.0, 200}); });
  loop.run();
}

// Publishes trades FIRST .. FIRST+COUNT-1 (trades.hpp) to the JetStream stream TRADES, which
// it creates on "trades.*.*": `nats_publish_trades nats://127.0.0.1:4222 0 600`.
#include <asp/asp.hpp>
#include <asp/nats/sink.hpp>

#include "trades.hpp"

#include <iostream>
#include <string>

int main(int argc, char** argv) {
  if (argc != 4) return std::cerr << "usage: nats_publish_trades SERVERS FIRST COUNT\n", 2;
  const int first = std::stoi(argv[2]);
  const int count = std::stoi(argv[3]);
  asp::nats::connection nats(argv[1]);
  nats.add_stream({.name = "TRADES", .subjects = {"trades.*.*"}});
  asp::loop loop;
  // Message ids "trades@FIRST-n": publishing the same batch again stores nothing twice.
  asp::nats::publisher<trade> out(loop, nats, {.name = "trades@" + std::string(argv[2])});
  for (int i = first; i < first + count; ++i) {
    const trade t = trade_number(i);
    out.publish("trades." + std::string(t.name()), trade_time(i), t);
  }
  out.flush();
  std::cout << "published " << out.published() << " trades\n";
}

// One of four processes that share the trades by partition: reads "trades.P.*" from the start
// of the JetStream stream TRADES up to now and prints each trade's sequence and symbol, then a
// count per symbol: `nats_partition nats://127.0.0.1:4222 2`.
#include <asp/asp.hpp>
#include <asp/nats/source.hpp>

#include "trades.hpp"

#include <cstdio>
#include <iostream>
#include <map>
#include <string>

int main(int argc, char** argv) {
  if (argc != 3) return std::cerr << "usage: nats_partition SERVERS PARTITION\n", 2;
  const std::string partition = argv[2];
  asp::nats::connection nats(argv[1]);
  asp::loop loop;
  std::map<std::string, int> counts;
  auto on_trade = [&](asp::time_point, const asp::nats::message<trade>& m) {
    std::printf("%llu %s\n", static_cast<unsigned long long>(m.sequence), m.value.symbol.data());
    ++counts[std::string(m.value.name())];
  };
  loop.run(
      {}, asp::nats::process_subject<trade>(
              on_trade, loop, nats,
              {.stream = "TRADES", .subject = "trades." + partition + ".*", .follow_live = false}));
  for (const auto& [symbol, n] : counts)
    std::printf("partition %s: %s %d\n", partition.c_str(), symbol.c_str(), n);
}

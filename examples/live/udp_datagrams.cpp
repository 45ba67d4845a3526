// Datagrams on a UDP port, until Ctrl-C: `live_udp_datagrams 9001`, then
// `echo hello | nc -u -q0 127.0.0.1 9001`.
#include <asp/asio/backend.hpp>
#include <asp/asio/signals.hpp>
#include <asp/asio/udp.hpp>
#include <asp/asp.hpp>

#include <iostream>
#include <string>

int main(int argc, char** argv) {
  if (argc != 2) return std::cerr << "usage: live_udp_datagrams PORT\n", 2;
  boost::asio::io_context ioc;
  asp::asio::io_context_backend waiting(ioc);
  asp::system_clock clock;
  asp::loop loop(clock, waiting);
  asp::asio::udp_source datagrams(ioc, loop, "0.0.0.0",
                                  static_cast<std::uint16_t>(std::stoi(argv[1])));
  asp::asio::stop_on_signals signals(loop);
  signals.on_stop([&] { datagrams.close(); });
  auto on_datagram = [](asp::time_point t, const std::string& bytes) {
    std::cout << asp::to_string(t) << ' ' << bytes.size() << " bytes\n";
  };
  loop.run({}, asp::process_stream(on_datagram, asp::none, datagrams));
}

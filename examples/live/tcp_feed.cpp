// A TCP feed of newline-delimited quotes, reconnecting with back-off, until Ctrl-C:
// `live_tcp_feed 127.0.0.1 9000` (try `nc -lk 9000` on the other side).
#include <asp/asio/backend.hpp>
#include <asp/asio/signals.hpp>
#include <asp/asio/tcp.hpp>
#include <asp/asp.hpp>

#include <iostream>
#include <string>

int main(int argc, char** argv) {
  if (argc != 3) return std::cerr << "usage: live_tcp_feed HOST PORT\n", 2;
  boost::asio::io_context ioc;
  asp::asio::io_context_backend waiting(ioc);
  asp::system_clock clock;
  asp::loop loop(clock, waiting);
  asp::asio::tcp_client feed(
      ioc, loop, argv[1], static_cast<std::uint16_t>(std::stoi(argv[2])),
      {.reconnect = {.enabled = true},
       .on_connect = [](const std::string& peer) { std::cout << "connected to " << peer << '\n'; },
       .on_disconnect = [](const std::string& why) { std::cout << "lost: " << why << '\n'; }});
  asp::asio::stop_on_signals signals(loop);
  signals.on_stop([&] { feed.close(); });
  auto on_quote = [](asp::time_point t, const std::string& quote) {
    std::cout << asp::to_string(t) << ' ' << quote << '\n';
  };
  loop.run({}, asp::process_stream(on_quote, asp::none, feed));
}

// A websocket feed (ws:// or wss://, the certificate verified), until Ctrl-C or the server
// closes: `live_websocket_feed wss://example.org/feed '{"subscribe":"ACME"}'`.
#include <asp/asio/backend.hpp>
#include <asp/asio/signals.hpp>
#include <asp/asio/websocket.hpp>
#include <asp/asp.hpp>

#include <iostream>
#include <string>

int main(int argc, char** argv) {
  if (argc != 3) return std::cerr << "usage: live_websocket_feed URL SUBSCRIPTION\n", 2;
  boost::asio::io_context ioc;
  asp::asio::io_context_backend waiting(ioc);
  asp::system_clock clock;
  asp::loop loop(clock, waiting);
  asp::asio::websocket_client feed(ioc, loop, argv[1], {.reconnect = {.enabled = true}});
  asp::asio::stop_on_signals signals(loop);
  signals.on_stop([&] { feed.close(); });  // the close handshake
  auto subscribe = [&]() -> asp::task<void> { co_await feed.send(argv[2]); };
  auto on_message = [](asp::time_point t, const std::string& message) {
    std::cout << asp::to_string(t) << ' ' << message << '\n';
  };
  loop.run({}, subscribe(), asp::process_stream(on_message, asp::none, feed));
  waiting.finish();
}

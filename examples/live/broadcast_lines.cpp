// Fan-out: every line of stdin to every client of a TCP server, a slow client dropped:
// `tail -f app.log | live_broadcast_lines 9002`, then `nc 127.0.0.1 9002` as many times as you
// like. Ctrl-C (or the end of input) closes the server after the lines it queued are written.
#include <asp/asio/backend.hpp>
#include <asp/asio/broadcast.hpp>
#include <asp/asio/lines.hpp>
#include <asp/asio/signals.hpp>
#include <asp/asp.hpp>

#include <iostream>
#include <string>
#include <utility>

int main(int argc, char** argv) {
  if (argc != 2) return std::cerr << "usage: live_broadcast_lines PORT\n", 2;
  boost::asio::io_context ioc;
  asp::asio::io_context_backend waiting(ioc);
  asp::system_clock clock;
  asp::loop loop(clock, waiting);
  asp::asio::lines input(ioc, loop);
  asp::asio::tcp_broadcast_server out(
      ioc, loop, "0.0.0.0", static_cast<std::uint16_t>(std::stoi(argv[1])),
      {.queue_limit = 10'000, .on_drop = [](const std::string& client, const std::string& why) {
         std::cerr << client << " dropped: " << why << '\n';
       }});
  asp::asio::stop_on_signals signals(loop);
  signals.on_stop([&] {
    input.close();
    out.close();
  });
  auto forward = [&]() -> asp::task<void> {
    while (auto line = co_await input.next()) co_await out.publish(std::move(line->value));
    out.close();  // the end of input
  };
  loop.run(forward());
  waiting.finish();  // what the clients' queues still hold
}

// Lines from stdin as a live stream: `tail -f app.log | live_stdin_lines`. End of input ends it.
#include <asp/asio/backend.hpp>
#include <asp/asio/lines.hpp>
#include <asp/asp.hpp>

#include <iostream>

int main() {
  boost::asio::io_context ioc;
  asp::asio::io_context_backend waiting(ioc);
  asp::system_clock clock;
  asp::loop loop(clock, waiting);
  asp::asio::lines input(ioc, loop);  // fd 0; each line stamped with its arrival
  int count = 0;
  auto on_line = [&](asp::time_point, const std::string& line) {
    std::cout << ++count << ": " << line << '\n';
  };
  loop.run({}, asp::process_stream(on_line, asp::none, input));
  std::cout << count << " lines\n";
}

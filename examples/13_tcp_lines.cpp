// Live input from a TCP connection: the history of a price feed, then the feed itself, read
// line by line from a server on loopback (started by the program, on the same thread). Each
// line carries its own time, "HH:MM:SS symbol price", used as the event's time.
#include <asp/asio/backend.hpp>
#include <asp/asio/tcp.hpp>
#include <asp/asio/use_task.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include <cstdio>
#include <string>
#include <vector>

#include "example_support.hpp"

using namespace std::chrono_literals;
using boost::asio::ip::tcp;

namespace {

// The feed: accepts one client, sends it three quotes, and hangs up.
asp::task<void> serve(tcp::acceptor& acceptor) {
  tcp::socket client = co_await acceptor.async_accept(asp::asio::use_task);
  const std::string quotes = "12:00:01 ACME 10.30\n12:00:02 ACME 10.25\n12:00:04 ACME 10.40\n";
  co_await boost::asio::async_write(client, boost::asio::buffer(quotes), asp::asio::use_task);
}

}  // namespace

int main(int argc, char** argv) {
  auto clock = example::make_clock(argc, argv);
  boost::asio::io_context ioc;
  asp::asio::io_context_backend waiting(ioc);  // Asio runs while the loop waits
  asp::loop loop(*clock, waiting);
  tcp::acceptor acceptor(ioc, tcp::endpoint(boost::asio::ip::address_v4::loopback(), 0));

  // "HH:MM:SS ..." on the day of the real clock.
  const auto day = std::chrono::floor<std::chrono::days>(clock->now());
  auto time_of = [day](std::string_view line) {
    int h = 0, m = 0, s = 0;
    if (std::sscanf(std::string(line).c_str(), "%d:%d:%d", &h, &m, &s) != 3) {
      throw std::invalid_argument("no HH:MM:SS at the start of '" + std::string(line) + "'");
    }
    return asp::time_point{day} + std::chrono::hours(h) + std::chrono::minutes(m) +
           std::chrono::seconds(s);
  };
  asp::asio::tcp_client feed(ioc, loop, "127.0.0.1", acceptor.local_endpoint().port(),
                             {.name = "feed", .time_of = time_of});
  std::vector<asp::event<std::string>> history{{clock->now() - 2min, "11:58:00 ACME 10.10"},
                                               {clock->now() - 1min, "11:59:00 ACME 10.20"}};
  auto print = [](asp::time_point t, const std::string& line) { example::log(t, line.substr(9)); };
  loop.run({}, serve(acceptor), asp::process_stream(print, history, feed, {.on_live_start = [] {
                                                      std::cout << "** feed **" << std::endl;
                                                    }}));
}

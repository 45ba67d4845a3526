// The websocket adapter (after csp's), made ASP's way: an hour of recorded quotes replays at
// once, then the same callback goes on live with a websocket feed. The feed is a small server
// this program starts on loopback; its JSON quotes carry their own times, which become the
// events' times. A message that is not a valid quote is skipped and counted — the program's
// stated policy — and named with its index when the feed ends.
#include <asp/asio/backend.hpp>
#include <asp/asio/use_task.hpp>
#include <asp/asio/websocket.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>
#include <boost/json/src.hpp>  // Boost.JSON, header-only, compiled into this program

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "example_support.hpp"

using namespace std::chrono_literals;
namespace websocket = boost::beast::websocket;
using asp::asio::use_task;
using boost::asio::ip::tcp;

namespace {

struct quote {
  std::string symbol;
  double bid;
  double ask;
};

// {"t": seconds after midnight, "symbol": ..., "bid": ..., "ask": ...}; std::nullopt with the
// reason in `error` when the message is not such a quote.
std::optional<asp::event<quote>> parse(const std::string& message, asp::time_point day,
                                       std::string& error) {
  boost::system::error_code ec;
  const boost::json::value v = boost::json::parse(message, ec);
  if (ec) {
    error = "not JSON";
    return std::nullopt;
  }
  const boost::json::object* o = v.if_object();
  if (o == nullptr || !o->contains("t") || !o->contains("symbol") || !o->contains("bid") ||
      !o->contains("ask")) {
    error = "not a quote: " + message;
    return std::nullopt;
  }
  const auto seconds = o->at("t").to_number<double>(ec);
  if (ec) {
    error = "a time that is not a number: " + message;
    return std::nullopt;
  }
  return asp::event<quote>{
      day + std::chrono::duration_cast<asp::duration>(std::chrono::duration<double>(seconds)),
      {std::string(o->at("symbol").as_string()), o->at("bid").to_number<double>(),
       o->at("ask").to_number<double>()}};
}

// The feed: accepts one client, sends it quotes from 12:00:01 on (and one broken message), and
// closes the connection.
asp::task<void> serve(tcp::acceptor& acceptor) {
  tcp::socket socket = co_await acceptor.async_accept(use_task);
  websocket::stream<boost::beast::tcp_stream> ws(std::move(socket));
  co_await ws.async_accept(use_task);
  const std::vector<std::string> feed{
      R"({"t": 43201.0, "symbol": "ACME", "bid": 10.21, "ask": 10.23})",
      R"({"t": 43202.5, "symbol": "ACME", "bid": 10.22, "ask": 10.25})",
      R"({"t": 43203, "symbol": "ACME", "bid": 10.19)",
      R"({"t": 43204.0, "symbol": "ACME", "bid": 10.18, "ask": 10.20})"};
  for (const std::string& message : feed) {
    co_await ws.async_write(boost::asio::buffer(message), use_task);
  }
  co_await ws.async_close(websocket::close_code::normal, use_task);
}

}  // namespace

int main(int argc, char** argv) {
  auto clock = example::make_clock(argc, argv);
  boost::asio::io_context ioc;
  asp::asio::io_context_backend waiting(ioc);
  asp::loop loop(*clock, waiting);
  tcp::acceptor acceptor(ioc, tcp::endpoint(boost::asio::ip::address_v4::loopback(), 0));
  const asp::time_point day = std::chrono::floor<std::chrono::days>(clock->now());

  // An hour of recorded quotes, one a minute, until a minute before the real clock.
  std::vector<asp::event<std::string>> recorded;
  for (int m = 60; m >= 1; --m) {
    const auto t = clock->now() - std::chrono::minutes(m);
    const double seconds = std::chrono::duration<double>(t - day).count();
    char line[128];
    std::snprintf(line, sizeof line, R"({"t": %.1f, "symbol": "ACME", "bid": %.2f, "ask": %.2f})",
                  seconds, 10.0 + 0.003 * (60 - m), 10.02 + 0.003 * (60 - m));
    recorded.push_back({t, line});
  }

  asp::asio::websocket_client feed(
      ioc, loop, "ws://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()) + "/quotes",
      {.name = "quotes feed", .time_of = [day](std::string_view message) {
         std::string error;
         const auto q = parse(std::string(message), day, error);
         return q ? q->time : asp::time_point{};  // clamped below, then skipped
       }});

  // The same callback for the recorded hour and the live feed: mid prices, every 15 minutes of
  // history and every live quote.
  std::size_t index = 0;
  std::vector<std::string> skipped;
  auto on_message = [&](asp::time_point, const std::string& message) {
    ++index;
    std::string error;
    const std::optional<asp::event<quote>> q = parse(message, day, error);
    if (!q) {
      skipped.push_back("message " + std::to_string(index) + ": " + error);
      return;
    }
    if (loop.is_live() || index % 15 == 0) {
      char line[96];
      std::snprintf(line, sizeof line, "%s mid=%.4f", q->value.symbol.c_str(),
                    (q->value.bid + q->value.ask) / 2);
      example::log(q->time, line);
    }
  };
  loop.run(
      {}, serve(acceptor),
      asp::process_stream(
          on_message, recorded, feed,
          {.name = "quotes",
           .on_live_start =
               [&] { std::cout << "** live: " << index << " recorded quotes **" << std::endl; },
           // A message without a time of its own takes the previous one's.
           .order = asp::out_of_order::clamp}));
  std::cout << "skipped " << skipped.size() << " message(s) from 'quotes feed'" << std::endl;
  for (const std::string& s : skipped) std::cout << "  " << s << std::endl;
}

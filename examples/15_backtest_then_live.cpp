// Backtest on a file, then go live with the same code: a moving-average rule trades on the
// quotes of examples/data/acme_quotes.csv (ten minutes of history, read as the past with
// asp::data::read_csv), then on a live TCP feed of quotes from a server on loopback (started by
// the program, on the same thread) whose lines carry their own times, a few seconds ahead.
#include <asp/asio/backend.hpp>
#include <asp/asio/tcp.hpp>
#include <asp/asio/use_task.hpp>
#include <asp/data/csv.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include <cstdio>
#include <deque>
#include <numeric>
#include <optional>
#include <sstream>
#include <string>

#include "example_support.hpp"

using namespace std::chrono_literals;
using boost::asio::ip::tcp;

namespace {

struct quote {
  double bid = 0;
  double ask = 0;
};

// The rule: long when the mid is above its average over the last five quotes, flat otherwise.
class strategy {
 public:
  void on_quote(asp::time_point t, const quote& q) {
    const double mid = (q.bid + q.ask) / 2;
    m_mids.push_back(mid);
    if (m_mids.size() > 5) m_mids.pop_front();
    if (m_mids.size() < 5) return;
    const double average = std::accumulate(m_mids.begin(), m_mids.end(), 0.0) / 5;
    const bool want_long = mid > average;
    if (want_long == m_long) return;
    m_long = want_long;
    char line[80];
    std::snprintf(line, sizeof line, "%s at %.3f (average %.4f)", m_long ? "buy " : "sell",
                  m_long ? q.ask : q.bid, average);
    m_pnl += m_long ? -q.ask : q.bid;
    ++m_trades;
    example::log(t, line);
  }
  void report(const char* when) const {
    std::printf("** %s: %d trades, %s, cash %+.2f **\n", when, m_trades, m_long ? "long" : "flat",
                m_pnl);
    std::fflush(stdout);
  }

 private:
  std::deque<double> m_mids;
  bool m_long = false;
  int m_trades = 0;
  double m_pnl = 0;
};

// The feed's lines as quotes: "TIME bid ask", timed by the source (its `time_of`).
struct quote_feed {
  asp::asio::tcp_client lines;
  asp::task<std::optional<asp::event<quote>>> next() {
    std::optional<asp::event<std::string>> line = co_await lines.next();
    if (!line) co_return std::nullopt;
    std::istringstream fields(line->value.substr(line->value.find(' ') + 1));
    quote q;
    fields >> q.bid >> q.ask;
    co_return asp::event<quote>{line->time, q};
  }
};

// The live feed: accepts one client, sends it three quotes of the next seconds, and hangs up.
asp::task<void> serve(tcp::acceptor& acceptor, asp::time_point start) {
  tcp::socket client = co_await acceptor.async_accept(asp::asio::use_task);
  const std::string quotes = asp::to_string(start + 1s) + " 10.30 10.32\n" +
                             asp::to_string(start + 2s) + " 10.20 10.22\n" +
                             asp::to_string(start + 4s) + " 10.35 10.37\n";
  co_await boost::asio::async_write(client, boost::asio::buffer(quotes), asp::asio::use_task);
}

}  // namespace

int main(int argc, char** argv) {
  auto clock = example::make_clock(argc, argv);
  boost::asio::io_context ioc;
  asp::asio::io_context_backend waiting(ioc);
  asp::loop loop(*clock, waiting);
  tcp::acceptor acceptor(ioc, tcp::endpoint(boost::asio::ip::address_v4::loopback(), 0));

  auto history = asp::data::read_csv<quote>(ASP_EXAMPLES_DIR "/data/acme_quotes.csv", {},
                                            asp::data::column("bid", &quote::bid),
                                            asp::data::column("ask", &quote::ask));
  // Live lines carry their own time first, in ISO 8601.
  asp::asio::tcp_client feed(
      ioc, loop, "127.0.0.1", acceptor.local_endpoint().port(),
      {.name = "feed", .time_of = [](std::string_view line) {
         std::string why;
         const auto t = asp::data::parse_iso8601(line.substr(0, line.find(' ')), &why);
         if (!t) throw std::invalid_argument("no time at the start of the line: " + why);
         return *t;
       }});

  // One stream, one callback: the file's quotes as the past, then the feed's.
  strategy rule;
  auto on_quote = [&](asp::time_point t, const quote& q) { rule.on_quote(t, q); };
  loop.run(
      {}, serve(acceptor, clock->now()),
      asp::process_stream(on_quote, std::move(history), quote_feed{feed},
                          {.name = "ACME", .on_live_start = [&] { rule.report("history done"); }}));
  rule.report("feed closed");
}

// asp play FILE: a record log or a CSV file replayed through the loop — as fast as possible or
// paced — to stdout, to the clients of a TCP or websocket server, or as UDP datagrams.
#include "tool.hpp"

#include "nats_record.hpp"

#include <asp/asio/backend.hpp>
#include <asp/asio/broadcast.hpp>
#include <asp/asio/signals.hpp>
#include <asp/asio/websocket.hpp>
#include <asp/asp.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>

#include <fmt/core.h>

#ifdef ASP_TOOL_NATS
#include <asp/nats/sink.hpp>
#endif

#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <cstdio>
#include <thread>

namespace asp::tool {

namespace {

// The clients of a TCP or a websocket server, whichever --to named.
struct served {
  template <class Server>
  explicit served(std::unique_ptr<Server> server)
      : port([s = server.get()] { return s->port(); }),
        clients([s = server.get()] { return s->clients(); }),
        publish([s = server.get()](std::string line) { return s->publish(std::move(line)); }),
        close([s = server.get()] { s->close(); }),
        drained([s = server.get()] { return s->drained(); }),
        abort([s = server.get()] { s->abort(); }),
        owner(std::move(server)) {}
  std::function<std::uint16_t()> port;
  std::function<std::size_t()> clients;
  std::function<asp::task<void>(std::string)> publish;
  std::function<void()> close;
  std::function<asp::task<void>()> drained;
  std::function<void()> abort;
  std::shared_ptr<void> owner;
};

// Keys, when stdin is a terminal: space pauses and resumes, + and - double and halve the rate
// (when paced), q stops. The terminal's mode comes back when the play ends.
class keys {
 public:
  keys(asp::loop& loop, std::optional<double> rate) : m_loop(&loop), m_rate(rate) {
    if (::isatty(0) == 0 || ::tcgetattr(0, &m_saved) != 0) return;
    termios raw = m_saved;
    raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    if (::tcsetattr(0, TCSANOW, &raw) != 0) return;
    m_active = true;
    m_reader = std::thread([this] { read(); });
  }
  ~keys() { restore(); }
  keys(const keys&) = delete;
  keys& operator=(const keys&) = delete;

  void restore() {
    if (!m_active) return;
    m_active = false;
    m_stop.store(true);
    if (m_reader.joinable()) m_reader.join();
    ::tcsetattr(0, TCSANOW, &m_saved);
  }

 private:
  void read() {
    bool paused = false;
    while (!m_stop.load()) {
      pollfd in{0, POLLIN, 0};
      if (::poll(&in, 1, 100) <= 0) continue;
      char key = 0;
      if (::read(0, &key, 1) != 1) return;
      if (key == ' ') {
        paused ? m_loop->resume() : m_loop->pause();
        paused = !paused;
      } else if ((key == '+' || key == '-') && m_rate) {
        *m_rate = key == '+' ? *m_rate * 2 : *m_rate / 2;
        m_loop->set_rate(m_rate);
      } else if (key == 'q') {
        m_loop->stop();
      }
    }
  }

  asp::loop* m_loop;
  std::optional<double> m_rate;
  termios m_saved{};
  bool m_active = false;
  std::atomic<bool> m_stop{false};
  std::thread m_reader;
};

// The records of recorded NATS messages whose subject matches `filter` (other streams' records
// go by).
asp::generator<const event<data::log_record>&> only_subject(
    asp::generator<const event<data::log_record>&> records, const formatter& f,
    std::string filter) {
  for (const event<data::log_record>& e : records) {
    if (!f.is_nats(e.value.stream)) continue;
    const std::optional<nats_record> r = decode_nats_record(e.value.payload);
    if (r && subject_matches(filter, r->subject)) co_yield e;
  }
}

}  // namespace

int run_play(const play_options& o) {
  // To JetStream, a record's payload as it is by default.
  const std::string format = !o.format.empty()             ? o.format
                             : o.to.starts_with("nats://") ? "raw"
                                                           : "csv";
  if (format != "csv" && format != "json" && format != "raw") {
    throw usage_error("--format: expected csv, json or raw, found '" + format + "'");
  }
  std::optional<double> rate;
  if (o.rate != "max") {
    double r = 0;
    const auto [end, ec] = std::from_chars(o.rate.data(), o.rate.data() + o.rate.size(), r);
    if (ec != std::errc() || end != o.rate.data() + o.rate.size() || !(r > 0)) {
      throw usage_error("--rate: expected max or a positive factor (1 is real time), found '" +
                        o.rate + "'");
    }
    rate = r;
  }
  // The first record's time: where offsets count from, and where the run starts (the stream
  // is started from a task, which would otherwise start the run at the real time).
  const std::optional<time_point> origin = first_time(o.file, o.csv);
  std::optional<time_point> start;
  std::optional<time_point> end;
  if (!o.start.empty()) start = parse_when(o.start, origin, "--start");
  if (!o.end.empty()) end = parse_when(o.end, origin, "--end");

  input in = open_input(o.file, o.csv, start, end);
  formatter f(in.streams, o.file);
  bool any_nats = false;
  for (std::size_t i = 0; i < in.streams.size(); ++i) any_nats = any_nats || f.is_nats(i);
  if (!o.subject.empty()) {
    if (!any_nats) {
      throw usage_error("--subject: " + o.file + " holds no recorded NATS messages");
    }
    in.records = only_subject(std::move(in.records), f, o.subject);
  }

  boost::asio::io_context ioc;
  asp::asio::io_context_backend waiting(ioc);
  // Every file must be the past, whatever its times. As fast as possible to stdout or UDP, where
  // nothing waits on a timer, a manual clock that reads the end of the time range and never
  // moves: every record is the past, and none waits (a clock that jumps from record to record
  // would look for input at each one, a system call a record). Paced, or to an output whose
  // acknowledgements have timeouts, real time shifted to a year before the end of the time
  // range (2261): every record before that is the past.
  const bool at_the_end = !rate && (o.to == "stdout" || o.to.starts_with("udp://"));
  std::unique_ptr<asp::clock> clock;
  if (at_the_end) {
    clock = std::make_unique<asp::manual_clock>(time_point::max());
  } else {
    clock = std::make_unique<asp::system_clock>(time_point::max() - std::chrono::days(366));
  }
  asp::loop loop(*clock, waiting);
  asp::metrics::registry metrics(loop);
  std::uint64_t clients_dropped = 0;  // by a broadcast server: stopped reading, or too slow
  // Serving from here: a scrape while the play waits for its clients says no run is active.
  const std::unique_ptr<asp::metrics::server> metrics_server =
      serve_metrics(metrics, o.metrics, o.quiet);

  std::unique_ptr<served> server;
  std::optional<boost::asio::ip::udp::socket> udp;
  boost::asio::ip::udp::endpoint udp_to;
  // A line out, with its record's time (for outputs that carry it).
  std::function<void(time_point, std::string)> emit = [](time_point, std::string) {};
  std::function<void()> published = [] {};  // waits until the output has it all
  std::function<void(time_point, const nats_record&)> emit_nats;  // to JetStream
  if (o.to == "stdout") {
    emit = [&](time_point, std::string line) {
      line += '\n';
      std::fwrite(line.data(), 1, line.size(), stdout);
    };
  } else if (o.to.starts_with("tcp-server://") || o.to.starts_with("ws-server://")) {
    const bool websocket = o.to.starts_with("ws-server://");
    // Loopback unless an address is given: recorded data is served without authentication.
    const auto [host, port] =
        host_port(std::string_view(o.to).substr(websocket ? 12 : 13), "127.0.0.1", "--to", true);
    if (o.slow_client != "drop" && o.slow_client != "block") {
      throw usage_error("--slow-client: expected drop or block, found " +
                        data::shown(o.slow_client));
    }
    const asp::asio::broadcast_options options{
        .queue_limit = 100'000,
        .policy =
            o.slow_client == "block" ? asp::asio::slow_client::block : asp::asio::slow_client::drop,
        .on_drop =
            [&clients_dropped](const std::string& client, const std::string& reason) {
              // A client that leaves after the end is no news; one dropped or stopped is.
              if (reason == "the server closed") return;
              ++clients_dropped;
              fmt::print(stderr, "asp: client {}: {}\n", client, reason);
            },
        .on_error = [](const std::string& what) { fmt::print(stderr, "asp: {}\n", what); }};
    if (websocket) {
      server = std::make_unique<served>(
          std::make_unique<asp::asio::websocket_broadcast_server>(ioc, loop, host, port, options));
    } else {
      server = std::make_unique<served>(
          std::make_unique<asp::asio::tcp_broadcast_server>(ioc, loop, host, port, options));
    }
    if (!o.quiet) fmt::print(stderr, "serving on {}:{}\n", host, server->port());
    metrics.add_gauge("asp_broadcast_clients", "Clients connected to the server", {{"to", o.to}},
                      [&server] { return static_cast<double>(server->clients()); });
    metrics.add_counter("asp_broadcast_clients_gone_total",
                        "Clients that went or were dropped (too slow) before the end",
                        {{"to", o.to}},
                        [&clients_dropped] { return static_cast<double>(clients_dropped); });
    while (server->clients() < o.clients) ioc.run_one();
  } else if (o.to.starts_with("udp://")) {
    const auto [host, port] =
        host_port(std::string_view(o.to).substr(6), "127.0.0.1", "--to", false);
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address(host, ec);
    if (ec) throw usage_error("--to: '" + host + "' is not an IP address");
    udp_to = {address, port};
    udp.emplace(ioc, udp_to.protocol());
    emit = [&](time_point, std::string line) { udp->send_to(boost::asio::buffer(line), udp_to); };
  } else if (o.to.starts_with("nats://")) {
#ifdef ASP_TOOL_NATS
    // Each record published with its time; the stream is created on the subject if missing.
    const nats_address a = parse_nats_address(o.to, "--to");
    nats::connection connection(a.servers);
    connection.add_stream({.name = a.stream, .subjects = {a.subject}});
    auto out = std::make_shared<nats::publisher<std::string>>(
        loop, connection,
        nats::publish_options{.subject = a.subject, .name = "asp play " + o.file});
    published = [out] { out->flush(); };
    emit = [out](time_point t, std::string line) { out->publish(t, line); };
    // A recorded NATS message goes out as it came: on its own subject, with its headers.
    emit_nats = [out, filter = a.subject](time_point t, const nats_record& r) {
      if (!subject_matches(filter, r.subject)) {
        throw input_error("the recorded subject " + data::shown(r.subject) +
                          " is not in the stream's subjects " + data::shown(filter) +
                          ": name a filter that holds it (nats://HOST:PORT/STREAM/FILTER)");
      }
      std::vector<std::pair<std::string, std::string>> headers;
      for (const auto& [name, value] : r.headers) headers.emplace_back(name, value);
      out->publish(r.subject, t, std::string(r.data), headers);
    };
#else
    throw usage_error("--to: this asp was built without asp::nats");
#endif
  } else {
    throw usage_error(
        "--to: expected stdout, tcp-server://[ADDRESS]:PORT, ws-server://[ADDRESS]:PORT, "
        "udp://HOST:PORT or nats://HOST:PORT/STREAM/SUBJECT, "
        "found '" +
        o.to + "'");
  }

  // The range: from the start (or the first record) to the end (or the last record's time,
  // from a log's index).
  progress shown(!o.quiet, start ? start : origin,
                 end        ? end
                 : in.range ? std::optional<time_point>(in.range->second)
                            : std::nullopt,
                 rate);
  if (format == "csv" && o.to == "stdout") emit({}, f.csv_header());
  std::optional<time_point> first;
  time_point last{};
  auto count = [&](time_point t) {
    if (!first) first = t;
    last = t;
    shown.event(t);
  };
  auto line_of = [&](time_point t, const data::log_record& r) {
    const event<data::log_record> e{t, r};
    count(t);
    return format == "csv" ? f.csv(e) : format == "json" ? f.json(e) : f.raw(e);
  };
  auto on_record = [&](time_point t, const data::log_record& r) {
    if (emit_nats && f.is_nats(r.stream)) {
      const std::optional<nats_record> message = decode_nats_record(r.payload);
      if (!message) {
        throw input_error("stream " + data::shown(in.streams[r.stream].name) +
                          ": not a recorded NATS message (cut short)");
      }
      count(t);
      emit_nats(t, *message);
      return;
    }
    emit(t, line_of(t, r));
  };
  // To a server, each line waits for room in the slowest client's queue before the next.
  auto on_record_served = [&](time_point t, const data::log_record& r) -> asp::task<void> {
    co_await server->publish(line_of(t, r));
  };
  keys controls(loop, rate);
  asp::asio::stop_on_signals signals(loop);
  // A stop ends the run at once, also when a client that stopped reading holds the publisher:
  // every connection ends, and each client's line says what it was sent.
  signals.on_stop([&] {
    controls.restore();
    if (server) server->abort();
  });
  auto play = [&]() -> asp::task<void> {
    if (server) {
      asp::stream_handle s =
          asp::start(loop, asp::process_stream(on_record_served, std::move(in.records), asp::none,
                                               {.name = o.file}));
      metrics.add(o.file, s);
      co_await s;
      server->close();
      co_await server->drained();  // every client has what was queued for it
    } else {
      asp::stream_handle s = asp::start(
          loop, asp::process_stream(on_record, std::move(in.records), asp::none, {.name = o.file}));
      metrics.add(o.file, s);
      co_await s;
    }
  };
  const auto began = std::chrono::steady_clock::now();
  loop.run({.start = start ? start : origin, .rate = rate}, play());
  controls.restore();
  if (server) server->close();  // stopped early (q): the clients still get what was queued
  waiting.finish();             // what the server's clients still have queued; a close handshake
  published();
  std::fflush(stdout);
  shown.finish();
  report_torn_tail(in);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  if (!o.quiet) {
    const std::uint64_t n = shown.events();
    fmt::print(stderr, "played {} records", n);
    if (first) fmt::print(stderr, " ({} .. {})", asp::to_string(*first), asp::to_string(last));
    fmt::print(stderr, " in {:.3f} s, {:.0f} records/s{}\n", seconds,
               seconds > 0 ? static_cast<double>(n) / seconds : 0.0,
               signals.received() != 0 ? ", stopped by a signal" : "");
  }
  return 0;
}

}  // namespace asp::tool

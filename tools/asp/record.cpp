// asp record --from SOURCE --out FILE.asplog: live input recorded, each message with its
// arrival time, until the input ends or SIGINT/SIGTERM; then the file is closed cleanly.
#include "tool.hpp"

#include "nats_record.hpp"

#include <asp/asio/backend.hpp>
#include <asp/asio/lines.hpp>
#include <asp/asio/signals.hpp>
#include <asp/asio/tcp.hpp>
#include <asp/asio/udp.hpp>
#include <asp/asio/websocket.hpp>
#include <asp/asp.hpp>
#include <asp/data/metrics.hpp>

#include <boost/asio/io_context.hpp>

#ifdef ASP_TOOL_NATS
#include <asp/nats/source.hpp>
#endif

#include <fmt/core.h>

#include <charconv>
#include <functional>
#include <optional>
#include <variant>

namespace asp::tool {

namespace {

#ifdef ASP_TOOL_NATS
// --start for a JetStream subject: TIME, seq:N or new.
nats::start_position nats_start(const std::string& text) {
  if (text.empty()) return nats::from_sequence{1};
  if (text == "new") return nats::new_only;
  if (text.starts_with("seq:")) {
    std::uint64_t n = 0;
    const auto [end, ec] = std::from_chars(text.data() + 4, text.data() + text.size(), n);
    if (ec == std::errc() && end == text.data() + text.size() && n > 0) {
      return nats::from_sequence{n};
    }
  } else if (const std::optional<time_point> t = data::parse_iso8601(text)) {
    return *t;
  }
  throw usage_error("--start: expected TIME (ISO 8601), seq:N or new, found '" + text + "'");
}

// --start-tolerance: a duration, for a start time only.
duration nats_tolerance(const record_options& o) {
  if (o.start_tolerance.empty()) return duration::zero();
  const std::optional<duration> d = parse_duration(o.start_tolerance);
  if (!d || *d < duration::zero()) {
    throw usage_error("--start-tolerance: expected a duration (500ms, 2s), found '" +
                      o.start_tolerance + "'");
  }
  if (!std::holds_alternative<time_point>(nats_start(o.start))) {
    throw usage_error("--start-tolerance is for --start TIME");
  }
  return *d;
}
#endif

}  // namespace

int run_record(const record_options& o) {
  const data::fsync_policy fsync = fsync_of(o.fsync);
  boost::asio::io_context ioc;
  asp::asio::io_context_backend waiting(ioc);
  asp::system_clock clock;
  asp::loop loop(clock, waiting);

  std::string kind;
  std::optional<asp::any_live_source<event<std::string>>> source;
  std::function<void()> close_source;
  // For line inputs: how the input ended, and the bytes of a line a stop left undelivered.
  std::function<std::string()> ended;
  std::function<std::size_t()> partial;
  // For the metrics: bytes received, and connections made (a client's).
  std::function<std::uint64_t()> received;
  std::function<std::size_t()> connections;
  const std::string& from = o.from;
  if (!from.starts_with("nats://") &&
      (!o.start.empty() || o.history || !o.start_tolerance.empty())) {
    throw usage_error("--start, --start-tolerance and --history are for nats:// inputs");
  }
#ifdef ASP_TOOL_NATS
  std::optional<nats::subject_source<std::string>> subject;
#endif
  if (from.starts_with("nats://")) {
#ifdef ASP_TOOL_NATS
    // A JetStream subject: its history from --start (at the event times it carries), then live.
    kind = "nats";
    const nats_address a = parse_nats_address(from, "--from");
    const nats::connection connection(a.servers);
    subject.emplace(loop, connection,
                    nats::subscribe_options{.stream = a.stream,
                                            .subject = a.subject,
                                            .start = nats_start(o.start),
                                            .start_tolerance = nats_tolerance(o),
                                            .follow_live = !o.history,
                                            .keep_headers = true});
    close_source = [&subject] { subject->close(); };
#else
    throw usage_error("--from: this asp was built without asp::nats");
#endif
  } else if (from == "stdin" || from == "-") {
    kind = "stdin";
    asp::asio::lines in(ioc, loop, 0, {.name = "stdin"});
    close_source = [in]() mutable { in.close(); };
    ended = [in] { return in.ended(); };
    partial = [in] { return in.partial(); };
    received = [in] { return in.bytes(); };
    source.emplace(std::move(in));
  } else if (from.starts_with("tcp://")) {
    kind = "tcp";
    const auto [host, port] =
        host_port(std::string_view(from).substr(6), "127.0.0.1", "--from", false);
    asp::asio::tcp_client in(ioc, loop, host, port);
    close_source = [in]() mutable { in.close(); };
    ended = [in] { return in.ended(); };
    partial = [in] { return in.partial(); };
    received = [in] { return in.bytes(); };
    connections = [in] { return in.connections(); };
    source.emplace(std::move(in));
  } else if (from.starts_with("udp://")) {
    kind = "udp";
    const auto [host, port] =
        host_port(std::string_view(from).substr(6), "0.0.0.0", "--from", true);
    asp::asio::udp_source in(ioc, loop, host, port);
    close_source = [in]() mutable { in.close(); };
    received = [in] { return in.bytes(); };
    source.emplace(std::move(in));
  } else if (from.starts_with("ws://") || from.starts_with("wss://")) {
    kind = "websocket";
    asp::asio::websocket_client in(ioc, loop, from);
    close_source = [in]() mutable { in.close(); };
    received = [in] { return in.bytes(); };
    connections = [in] { return in.connections(); };
    source.emplace(std::move(in));
  } else {
    throw usage_error(
        "--from: expected tcp://HOST:PORT, udp://[ADDRESS]:PORT, ws://..., "
        "wss://..., nats://HOST:PORT/STREAM/SUBJECT or stdin, found '" +
        from + "'");
  }

  const std::string name = o.stream.empty() ? kind : o.stream;
  // A JetStream subject's messages keep their subjects, sequences and headers (nats_record.hpp).
  const std::string schema = kind == "nats" ? std::string(nats_message_schema) : "raw";
  data::log_writer out(o.out, {{name, schema}},
                       {.creator = "asp record " + from,
                        .fsync = fsync,
                        .overwrite = o.overwrite,
                        .zstd_level = o.zstd,
                        .split = parse_split(o.split_size, o.split_duration)});
  asp::metrics::registry metrics(loop);
  data::add_metrics(metrics, o.out, out);
  if (received) {
    metrics.add_counter("asp_source_received_bytes_total", "Bytes the input received",
                        {{"source", from}}, [&] { return static_cast<double>(received()); });
  }
  if (connections) {
    metrics.add_counter("asp_source_connections_total",
                        "Connections the input made (more than one: it reconnected)",
                        {{"source", from}}, [&] { return static_cast<double>(connections()); });
  }
  const std::unique_ptr<asp::metrics::server> metrics_server =
      serve_metrics(metrics, o.metrics, o.quiet);
  asp::asio::stop_on_signals signals(loop);
  signals.on_stop([&] { close_source(); });
  if (!o.quiet) fmt::print(stderr, "recording {} into {} (SIGINT or SIGTERM stops)\n", from, o.out);
  progress shown(!o.quiet, {}, {}, {});
  std::optional<time_point> first;
  time_point last{};
  auto on_message = [&](time_point t, const std::string& message) {
    out.write(0, t, message);
    if (!first) first = t;
    last = t;
    shown.event(t);
  };
  // A quiet input still gets what it sent acknowledged within the interval: a timer, cancelled
  // when the input ends (the close syncs at once).
  asp::timer_handle sync_timer;
  std::function<void()> sync_tick = [&] {
    if (out.written() > out.acknowledged()) out.sync();
    sync_timer = loop.call_later(fsync.every, sync_tick);
  };
  if (fsync.every > duration::zero()) sync_timer = loop.call_later(fsync.every, sync_tick);
  auto recording = [&]() -> asp::task<void> {
    asp::stream_handle s;
#ifdef ASP_TOOL_NATS
    if (subject) {
      auto on_nats = [&](time_point t, const nats::message<std::string>& m) {
        on_message(t, encode_nats_record(m.subject, m.sequence, m.headers, m.value));
      };
      s = asp::start(
          loop, asp::process_stream(on_nats, subject->past(), subject->live(), {.name = name}));
    }
#endif
    if (source) {
      s = asp::start(
          loop, asp::process_stream(on_message, asp::none, std::move(*source), {.name = name}));
    }
    metrics.add(name, s);
    co_await s;
    sync_timer.cancel();
  };
  loop.run({}, recording());
  out.close();
  shown.finish();
  // What became of the input's end, whatever --quiet says when a line was cut or kept.
  if (ended) {
    const std::string how = ended();
    if (const std::size_t cut = partial(); cut > 0) {
      fmt::print(stderr,
                 "asp: {}: stopped in the middle of a line: the {} bytes received of it were not "
                 "recorded\n",
                 from, cut);
    } else if (!how.empty() && how != "closed" &&
               (!o.quiet || (how != "end of input" && how != "closed by the peer"))) {
      fmt::print(stderr, "asp: {}: {}\n", from, how);
    }
  }
  if (!o.quiet) {
    fmt::print(stderr, "wrote {} records", out.written());
    if (first) fmt::print(stderr, " ({} .. {})", asp::to_string(*first), asp::to_string(last));
    fmt::print(stderr, " to {}{}, all acknowledged{}\n", o.out,
               out.files() > 1 ? fmt::format(" ({} files)", out.files()) : std::string(),
               signals.received() != 0 ? "; stopped by a signal" : "");
  }
  return 0;
}

}  // namespace asp::tool

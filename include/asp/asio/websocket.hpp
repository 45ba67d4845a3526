#pragma once

#include <asp/asio/broadcast.hpp>
#include <asp/asio/reconnect.hpp>
#include <asp/event.hpp>
#include <asp/loop.hpp>
#include <asp/task.hpp>

#include <boost/asio/io_context.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace asp::asio {

/// Optional parts of a websocket client source.
struct websocket_options {
  /// Appears in errors; defaults to the URL.
  std::string name{};
  /// A message longer than this fails the source (asp::input_error naming it).
  std::size_t max_message = std::size_t{1} << 20;
  /// Keep-alive, on by default: a ping once half of `idle_timeout` passes without a frame from
  /// the peer, and the connection dropped when a whole `idle_timeout` passes without one (the
  /// source then fails, "the server stopped answering", or reconnects as `reconnect` says).
  /// Real time, whatever the loop's clock: it is the peer's silence that is measured (Beast's
  /// timers; a manual clock jumps whenever the loop waits, and would drop peers that answer).
  bool keep_alive = true;
  duration idle_timeout = std::chrono::seconds(30);
  /// For wss://: whether the server's certificate must verify (and carry the URL's host name),
  /// and the file of certificate authorities to verify it with (PEM); empty: the system's.
  bool verify_peer = true;
  std::string ca_file{};
  reconnect_policy reconnect{};
  /// Called on the loop's thread after each (re)connection and handshake, with the URL.
  std::function<void(const std::string& url)> on_connect{};
  /// Called on the loop's thread when a connection is lost, with the reason.
  std::function<void(const std::string& reason)> on_disconnect{};
  /// The event's own time, from the message; without it, each message is stamped with its
  /// arrival: the loop's real clock when it was read.
  std::function<time_point(std::string_view message)> time_of{};
};

/// A websocket client (Boost.Beast) as a live source of `asp::event<std::string>`, one event
/// per message (text or binary; a text message that is not valid UTF-8 fails the source), and
/// a sink (`send`). URLs are `ws://HOST[:PORT][/PATH]`, or `wss://...` over TLS (OpenSSL), the
/// server's certificate verified by default. It connects and shakes hands when first
/// read, holds the run open while it is open, and is closable: `close()` performs the close
/// handshake. Copies share one connection. Errors are asp::input_error naming the source and,
/// for a bad message, its index.
class websocket_client {
 public:
  /// A client of `url` on `loop`, through `ioc`, which must run on the loop's thread. Throws
  /// asp::input_error for a URL it cannot use.
  websocket_client(boost::asio::io_context& ioc, asp::loop& loop, const std::string& url,
                   websocket_options options = {});

  /// Awaitable: the next message, or std::nullopt once the server closed the connection
  /// (without reconnect) or the source was closed.
  task<std::optional<event<std::string>>> next();

  /// Sends one text message (binary when `binary`), connecting first if need be. One send at
  /// a time.
  task<void> send(std::string message, bool binary = false);

  /// Starts the close handshake and ends the source: a pending `next()` returns std::nullopt.
  /// A message being sent is written before the close frame (Beast orders them).
  void close();

  /// Connections made so far (reconnections included).
  std::size_t connections() const noexcept;
  /// Bytes of the messages received so far (of every connection).
  std::uint64_t bytes() const noexcept;

 private:
  struct state;
  std::shared_ptr<state> m_state;
};

/// A websocket server that sends every published message (text) to every connected client:
/// `tcp_broadcast_server`'s counterpart for browsers and websocket tools, with the same
/// bounded per-client queues, slow-client policy and close (`broadcast_options`; `frames` is
/// not used: a message is a frame). A message is sent as text when it is UTF-8 and as binary
/// otherwise (a websocket's text must be UTF-8: a client drops the connection on anything
/// else). Clients connect to `ws://ADDRESS:PORT/` (any path); what
/// they send is read and ignored, so that pings are answered and closes seen.
class websocket_broadcast_server : public broadcast_server {
 public:
  /// Listens on ADDRESS:PORT (port 0: one the system chooses, see `port()`) on `loop`, through
  /// `ioc`, which must run on the loop's thread. Throws asp::input_error when it cannot listen.
  websocket_broadcast_server(boost::asio::io_context& ioc, asp::loop& loop,
                             const std::string& address, std::uint16_t port,
                             broadcast_options options = {});
  /// Queues `message` for every client (see tcp_broadcast_server::publish).
  task<void> publish(std::string message);
};

}  // namespace asp::asio

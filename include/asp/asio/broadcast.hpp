#pragma once

#include <asp/asio/framing.hpp>
#include <asp/loop.hpp>
#include <asp/task.hpp>

#include <boost/asio/io_context.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace asp::asio {

/// What a broadcast server does with a client that reads too slowly to keep up.
enum class slow_client {
  drop,   ///< disconnect it (on_drop says so) and go on with the others
  block,  ///< make `publish` wait until every client has room again
};

/// Optional parts of a broadcast server.
struct broadcast_options {
  /// Appears in errors; defaults to "ADDRESS:PORT".
  std::string name{};
  framing frames = framing::lines;
  /// Frames queued for one client beyond what its socket takes: the bound on its memory.
  std::size_t queue_limit = 1024;
  slow_client policy = slow_client::drop;
  /// Called on the loop's thread when a client connects, with its address.
  std::function<void(const std::string& client)> on_client{};
  /// Called on the loop's thread when a client is dropped or goes, with the reason (after
  /// `close()`: "the server closed"; after `abort()`: "stopped: N frames delivered, M not").
  std::function<void(const std::string& client, const std::string& reason)> on_drop{};
  /// Called on the loop's thread when accepting fails for want of resources (file descriptors,
  /// memory), once until an accept succeeds again. The server keeps accepting: again after
  /// 50 ms, then at pauses that double up to a second (on the loop's clock).
  std::function<void(const std::string& what)> on_error{};
};

namespace detail {
class broadcast_listener;
}

/// What the broadcast servers (TCP, websocket) have in common besides publishing: their port,
/// clients, queues and ending. Not used on its own.
class broadcast_server {
 public:
  broadcast_server(const broadcast_server&) = delete;
  broadcast_server& operator=(const broadcast_server&) = delete;

  /// The port it listens on.
  std::uint16_t port() const;

  /// Clients connected now (for a websocket: handshake done).
  std::size_t clients() const noexcept;

  /// Frames queued and not yet written, over every client (including those of a closed server
  /// whose queues are still being written).
  std::size_t queued() const noexcept;

  /// Stops accepting and lets the run end. Every client is told through `on_drop` ("the server
  /// closed") and keeps receiving the frames queued for it; then its connection ends (for a
  /// websocket, with the close handshake). The writes go on while the io_context runs — until
  /// the run returns, or afterwards in `ioc.run()` — and a client that fails meanwhile is
  /// simply disconnected. Idempotent.
  void close();

  /// Completes once the server is closed and every client has received what was queued for it
  /// (or was dropped): a publisher that must not end before its clients have it all awaits it.
  task<void> drained();

  /// Stops at once: every connection ends now, whatever is queued for it, and `on_drop` says
  /// for each client how many frames it was sent and how many it was not. For a stop (a
  /// signal) that must not wait on a client that stopped reading. Idempotent; after `close()`
  /// too.
  void abort();

 protected:
  explicit broadcast_server(std::shared_ptr<detail::broadcast_listener> listener);
  /// Closes (see close()).
  ~broadcast_server();

  /// Queues `frame`, as it goes on the wire, for every client.
  task<void> publish_frame(std::string frame);

 private:
  std::shared_ptr<detail::broadcast_listener> m_listener;
};

/// A TCP server that sends every published frame to every connected client: a sink for
/// programs that answer, or that fan a stream out. Each client has a bounded queue; a client
/// that falls behind is handled as `policy` says. It accepts while it is open (holding the run
/// open), and `close()` ends every connection once what was queued for it is written.
class tcp_broadcast_server : public broadcast_server {
 public:
  /// Listens on ADDRESS:PORT (port 0: one the system chooses, see `port()`) on `loop`, through
  /// `ioc`, which must run on the loop's thread. Throws asp::input_error when it cannot listen.
  tcp_broadcast_server(boost::asio::io_context& ioc, asp::loop& loop, const std::string& address,
                       std::uint16_t port, broadcast_options options = {});

  /// Queues `frame` (framed as `options.frames` says) for every client. Completes at once
  /// under slow_client::drop; under slow_client::block, suspends until every client's queue
  /// has room for it.
  task<void> publish(std::string frame);

 private:
  framing m_frames;
};

}  // namespace asp::asio

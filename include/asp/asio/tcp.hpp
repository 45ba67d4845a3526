#pragma once

#include <asp/asio/framing.hpp>
#include <asp/asio/reconnect.hpp>
#include <asp/event.hpp>
#include <asp/loop.hpp>
#include <asp/task.hpp>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace asp::asio {

/// Optional parts of a TCP client source.
struct tcp_options {
  /// Appears in errors; defaults to "HOST:PORT".
  std::string name{};
  framing frames = framing::lines;
  /// A frame longer than this fails the source (asp::input_error naming it).
  std::size_t max_frame = std::size_t{1} << 20;
  reconnect_policy reconnect{};
  /// Called on the loop's thread after each (re)connection, with "HOST:PORT".
  std::function<void(const std::string& peer)> on_connect{};
  /// Called on the loop's thread when a connection is lost, with the reason (a reconnecting
  /// source reports its gaps here).
  std::function<void(const std::string& reason)> on_disconnect{};
  /// The event's own time, from the frame; without it, each frame is stamped with its
  /// arrival: the loop's real clock when its last bytes were read.
  std::function<time_point(std::string_view frame)> time_of{};
};

/// A TCP client as a live source of `asp::event<std::string>` (one event per frame) and a sink
/// (`send`). It connects when first read, holds the run open while it is open, and is
/// closable; copies share one connection. Errors are asp::input_error naming the source:
/// "asp: tcp source 'HOST:PORT': cannot connect to HOST:PORT: Connection refused", a frame over
/// the maximum, a connection broken in the middle of a frame.
///
/// The end of its input, the same for every line input (`lines` too): when the peer closes the
/// connection, a last line without a newline is a line, delivered (a length-prefixed frame cut
/// short is an error); when the connection breaks (a reset) in the middle of a frame, the
/// source fails, naming the bytes lost; a frame begun when the source is closed (a stop) is not
/// delivered, and `partial()` says its size. `ended()` says how the input ended.
class tcp_client {
 public:
  /// A client of HOST:PORT on `loop`, through `ioc`, which must run on the loop's thread
  /// (asp::asio::io_context_backend or asp::asio::host).
  tcp_client(boost::asio::io_context& ioc, asp::loop& loop, std::string host, std::uint16_t port,
             tcp_options options = {});

  /// Awaitable: the next frame, or std::nullopt once the peer closed the connection (without
  /// reconnect) or the source was closed.
  task<std::optional<event<std::string>>> next();

  /// Sends one frame (framed as the source's frames are), connecting first if need be. One
  /// send at a time. Throws asp::input_error when the connection fails.
  task<void> send(std::string frame);

  /// Ends the source: a pending `next()` returns std::nullopt and the connection is closed —
  /// after the frames being sent are written, when `send`s are in progress.
  void close();

  /// Connections made so far (reconnections included).
  std::size_t connections() const noexcept;
  /// Bytes received so far (payload bytes, framing included; of every connection).
  std::uint64_t bytes() const noexcept;

  /// How the input ended, once it has: "closed by the peer", "closed by the peer, after a last
  /// line without a newline (N bytes), kept as a line", "reset by the peer (REASON)", or
  /// "closed" (by `close()`); empty while it goes on.
  const std::string& ended() const noexcept;

  /// Bytes received of a frame not yet complete (after a close: what it left undelivered).
  std::size_t partial() const noexcept;

 private:
  struct state;
  std::shared_ptr<state> m_state;
};

}  // namespace asp::asio

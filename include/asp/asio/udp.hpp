#pragma once

#include <asp/event.hpp>
#include <asp/loop.hpp>
#include <asp/task.hpp>

#include <boost/asio/io_context.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace asp::asio {

/// Optional parts of a UDP source.
struct udp_options {
  /// Appears in errors; defaults to "ADDRESS:PORT".
  std::string name{};
  /// A datagram longer than this fails the source (asp::input_error naming it).
  std::size_t max_datagram = 65507;
  /// The event's own time, from the datagram; without it, each datagram is stamped with its
  /// arrival: the loop's real clock when it was read.
  std::function<time_point(std::string_view datagram)> time_of{};
};

/// Datagrams received on a bound UDP port as a live source of `asp::event<std::string>`, one
/// event per datagram. It holds the run open while it is open and is closable; copies share
/// one socket.
class udp_source {
 public:
  /// Binds ADDRESS:PORT (port 0: one the system chooses, see `port()`) on `loop`, through
  /// `ioc`, which must run on the loop's thread. Throws asp::input_error when it cannot bind.
  udp_source(boost::asio::io_context& ioc, asp::loop& loop, const std::string& address,
             std::uint16_t port, udp_options options = {});

  /// The bound port.
  std::uint16_t port() const;

  /// Datagrams and their bytes received so far.
  std::uint64_t datagrams() const noexcept;
  std::uint64_t bytes() const noexcept;

  /// Awaitable: the next datagram, or std::nullopt once closed.
  task<std::optional<event<std::string>>> next();

  /// Ends the source: the socket is closed and a pending `next()` returns std::nullopt.
  void close();

 private:
  struct state;
  std::shared_ptr<state> m_state;
};

}  // namespace asp::asio

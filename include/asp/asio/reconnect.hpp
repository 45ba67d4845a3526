#pragma once

#include <asp/time.hpp>

#include <chrono>
#include <cstddef>
#include <optional>

namespace asp::asio {

/// What a source does when it cannot connect, or loses its connection.
struct reconnect_policy {
  /// Off (the default): the first failure to connect fails the run ("cannot connect to
  /// HOST:PORT: reason"), and a connection closed by the peer ends the source. On: the source
  /// waits and tries again, with capped exponential back-off, on the loop's clock.
  bool enabled = false;
  duration initial_delay = std::chrono::milliseconds(100);
  duration max_delay = std::chrono::seconds(10);
  double factor = 2.0;
  /// Failed attempts in a row after which the source gives up and fails the run; none: never.
  std::optional<std::size_t> max_attempts{};
};

}  // namespace asp::asio

#pragma once

// What asp::asio's sources share, private to them: stamping an event, and the connection of a
// client that reconnects (framing a byte stream is framer.hpp's).

#include <asp/asio/reconnect.hpp>
#include <asp/error.hpp>
#include <asp/event.hpp>
#include <asp/sleep.hpp>
#include <asp/task.hpp>

#include <boost/system/system_error.hpp>

#include "framer.hpp"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace asp::asio::detail {

/// The event for `payload`: due at `arrival`, or at the time `time_of` reads from it. A throw
/// from `time_of` is a bad input, reported where `describe()` says (called only then).
template <class Describe>
event<std::string> stamp(std::string payload, time_point arrival,
                         const std::function<time_point(std::string_view)>& time_of,
                         Describe describe) {
  if (time_of) {
    try {
      arrival = time_of(payload);
    } catch (const std::exception& e) {
      throw input_error(describe() + ": " + e.what());
    }
  }
  return {arrival, std::move(payload)};
}

/// After `failures` failed connection attempts: fails with "cannot connect to PEER: reason"
/// when the policy says to give up, else waits the back-off on the loop's clock and grows it.
inline task<void> before_retry(const reconnect_policy& policy, std::size_t failures,
                               duration& delay, const std::string& where, const std::string& peer,
                               const std::string& reason) {
  if (!policy.enabled || (policy.max_attempts && failures >= *policy.max_attempts)) {
    throw input_error(where + ": cannot connect to " + peer + ": " + reason);
  }
  co_await asp::sleep(delay);
  delay = std::min(policy.max_delay, std::chrono::duration_cast<duration>(delay * policy.factor));
}

/// The connection of a client that may reconnect (tcp_client, websocket_client), whatever its
/// transport: whether it is connected or closed, the connections made, attempts with the
/// policy's back-off, and the user's hooks. How to open a connection, read from it and drop it
/// stays with each client.
class client_link {
 public:
  using hook = std::function<void(const std::string&)>;
  client_link(const reconnect_policy& policy, const hook& on_connect, const hook& on_disconnect)
      : m_policy(&policy), m_on_connect(&on_connect), m_on_disconnect(&on_disconnect) {}

  bool connected() const noexcept { return m_connected; }
  bool closed() const noexcept { return m_closed; }
  std::size_t connections() const noexcept { return m_connections; }
  /// Whether a lost connection is followed by a new one (else the source ends or fails).
  bool reconnects() const noexcept { return m_policy->enabled; }

  /// Marks the link closed: true the first time, when the client has its transport to close.
  bool close() noexcept { return !std::exchange(m_closed, true); }

  /// Opens a connection with `open()` — a task that throws boost::system::system_error or
  /// another std::exception saying why it failed — trying again as the policy says. True once
  /// open (on_connect told `peer`); false when the client was closed meanwhile. Fails with
  /// "WHERE: cannot connect to TARGET: reason" when the policy gives up.
  template <class Open>
  task<bool> connect(Open open, std::string where, std::string target, std::string peer) {
    duration delay = m_policy->initial_delay;
    std::size_t failures = 0;
    for (;;) {
      std::string failure;
      try {
        co_await open();
      } catch (const boost::system::system_error& e) {
        failure = e.code().message();
      } catch (const std::exception& e) {
        failure = e.what();
      }
      if (m_closed) co_return false;
      if (failure.empty()) {
        m_connected = true;
        ++m_connections;
        if (*m_on_connect) (*m_on_connect)(peer);
        co_return true;
      }
      co_await before_retry(*m_policy, ++failures, delay, where, target, failure);
    }
  }

  /// The connection is gone for `reason` (the client has dropped its transport): on_disconnect
  /// is told.
  void lose(const std::string& reason) {
    m_connected = false;
    if (*m_on_disconnect) (*m_on_disconnect)(reason);
  }

 private:
  const reconnect_policy* m_policy;  // the client's options own these
  const hook* m_on_connect;
  const hook* m_on_disconnect;
  bool m_connected = false;
  bool m_closed = false;
  std::size_t m_connections = 0;
};

}  // namespace asp::asio::detail

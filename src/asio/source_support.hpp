#pragma once

// What asp::asio's sources share, private to them: stamping an event, and waiting before a new
// connection attempt (cutting a byte stream into frames is framer.hpp's).

#include <asp/asio/reconnect.hpp>
#include <asp/error.hpp>
#include <asp/event.hpp>
#include <asp/sleep.hpp>
#include <asp/task.hpp>

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

}  // namespace asp::asio::detail

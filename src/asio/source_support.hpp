#pragma once

// What asp::asio's sources share, private to them: cutting a byte stream into frames, stamping
// an event, and waiting before a new connection attempt.

#include <asp/asio/tcp.hpp>
#include <asp/error.hpp>
#include <asp/event.hpp>
#include <asp/sleep.hpp>
#include <asp/task.hpp>

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

enum class frame_kind { line, length_prefixed };

class framer {
 public:
  framer(frame_kind kind, std::size_t max_frame) : m_kind(kind), m_max(max_frame) {}

  void append(const char* data, std::size_t size) { m_buffer.append(data, size); }

  /// The next complete frame, if one is buffered. Throws asp::input_error (prefixed with
  /// `where`) for a frame longer than the maximum.
  std::optional<std::string> pop(const std::string& where) {
    if (m_kind == frame_kind::line) {
      const std::size_t end = m_buffer.find('\n');
      if (end == std::string::npos) {
        if (m_buffer.size() > m_max) too_long(where, m_buffer.size());
        return std::nullopt;
      }
      if (end > m_max) too_long(where, end);
      std::string line = m_buffer.substr(0, end);
      m_buffer.erase(0, end + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      return line;
    }
    if (m_buffer.size() < 4) return std::nullopt;
    const auto byte = [&](std::size_t i) {
      return static_cast<std::uint32_t>(static_cast<unsigned char>(m_buffer[i]));
    };
    const std::size_t size = (byte(0) << 24) | (byte(1) << 16) | (byte(2) << 8) | byte(3);
    if (size > m_max) too_long(where, size);
    if (m_buffer.size() < 4 + size) return std::nullopt;
    std::string frame = m_buffer.substr(4, size);
    m_buffer.erase(0, 4 + size);
    return frame;
  }

  /// Bytes of an incomplete frame.
  std::size_t pending() const noexcept { return m_buffer.size(); }
  std::string take_rest() {
    std::string rest = std::move(m_buffer);
    m_buffer.clear();
    return rest;
  }
  void clear() noexcept { m_buffer.clear(); }

 private:
  [[noreturn]] void too_long(const std::string& where, std::size_t size) const {
    throw input_error(where + ": a frame of " + std::to_string(size) +
                      " bytes is over the maximum of " + std::to_string(m_max));
  }

  frame_kind m_kind;
  std::size_t m_max;
  std::string m_buffer;
};

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

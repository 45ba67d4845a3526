#pragma once

// An HTTP endpoint for a metrics registry: `GET /metrics` in the Prometheus text format, for
// a monitoring stack to scrape while a program runs.

#include <asp/metrics.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace asp::metrics {

/// Serves a registry over HTTP/1.1 (Beast) on a thread of its own: `GET /metrics` answers
/// the registry's text, collected on the loop's thread — during a run, before the loop's next
/// piece of work, replay included (the request is posted at the earliest time, so it moves no
/// clock) — and anything else 404. When the loop does not answer within `collect_timeout`
/// (no run is active), the answer is 503 with the reason. Keeps connections alive, and closes
/// one that sends no request, or reads no answer, for `idle_timeout`: a client that stalls
/// holds nothing for long.
///
/// The registry and its loop must outlive the server; destroying the server stops it.
class server {
 public:
  /// Listens on `address`: "HOST:PORT", "[IPv6]:PORT", or ":PORT" for the loopback interface
  /// (never every interface unless asked: "0.0.0.0:PORT"). Port 0 takes a free one (see
  /// port()). Throws asp::input_error naming the address when it cannot listen there.
  server(registry& reg, const std::string& address,
         std::chrono::milliseconds collect_timeout = std::chrono::seconds(2),
         std::chrono::milliseconds idle_timeout = std::chrono::seconds(60));
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// The port it listens on.
  std::uint16_t port() const noexcept;
  /// Scrapes answered so far (200s).
  std::uint64_t scrapes() const noexcept;

  struct state;

 private:
  std::shared_ptr<state> m_state;
};

/// Starts serving `reg` on `address` (see server).
inline std::unique_ptr<server> serve(registry& reg, const std::string& address) {
  return std::make_unique<server>(reg, address);
}

}  // namespace asp::metrics

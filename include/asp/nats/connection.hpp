#pragma once

// A connection to NATS with JetStream, shared by the sources and sinks of asp::nats, and what
// they need to set up a JetStream stream.

#include <asp/time.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace asp::nats {

/// How to reach a NATS cluster.
struct connect_options {
  /// Server URLs, such as "nats://127.0.0.1:4222"; any of them is a way in.
  std::vector<std::string> servers{};
  /// The client's name, as the servers' monitoring shows it.
  std::string name = "asp";
  /// After a connection is lost, how long to wait between attempts. Attempts never stop: a
  /// cluster that elects a new leader comes back, and a source waits for it.
  std::chrono::milliseconds reconnect_wait{100};
  /// How long one JetStream API call (stream info, a direct get, creating a consumer) waits.
  std::chrono::milliseconds api_timeout{2000};
  /// How long a failing JetStream API call is retried (a new stream leader is elected within
  /// 5-10 s of losing the old one) before the error is reported.
  std::chrono::milliseconds api_retry_for{30000};
};

/// A JetStream stream to create (or to find as it is): `add_stream`.
struct stream_config {
  std::string name{};
  std::vector<std::string> subjects{};
  /// Copies kept by the cluster (1, 3 or 5).
  int replicas = 1;
  /// On disk (true) or in memory.
  bool file_storage = true;
  /// The window in which JetStream drops a message whose Nats-Msg-Id it has seen (the sinks
  /// set one): zero leaves the server's default (2 minutes).
  std::chrono::nanoseconds duplicate_window{0};
  /// Let clients read single messages with direct gets (any replica answers). Streams made by
  /// other clients often do not (JetStream's default is false); subject_source reads both.
  bool allow_direct = true;
};

/// Where a stream stands.
struct stream_state {
  std::uint64_t messages = 0;
  std::uint64_t first_sequence = 0;
  std::uint64_t last_sequence = 0;
  /// The server that leads the stream in a cluster ("" for a single server).
  std::string leader;
  /// Whether the stream answers direct gets (its AllowDirect).
  bool allow_direct = false;
};

namespace detail {
struct connection_state;
}

/// A connection to a NATS cluster with JetStream, reconnecting for ever. Copies share it; it
/// closes when the last copy (or source, or sink using it) is gone. Thread-safe.
class connection {
 public:
  /// Connects to `servers` (comma-separated URLs) with the default options.
  explicit connection(const std::string& servers);
  /// Connects as `options` say. Throws asp::input_error naming the servers when none answers.
  explicit connection(connect_options options);

  /// Creates the stream, or checks that one of that name exists (its configuration is left as
  /// it is). Retried for `api_retry_for`, as a cluster may still be electing its leader.
  void add_stream(const stream_config& config);
  /// Deletes the stream; a missing stream is not an error.
  void delete_stream(const std::string& name);
  /// The stream's counts and sequence range now.
  stream_state stream_info(const std::string& name) const;

  /// The options it was made with.
  const connect_options& options() const noexcept;
  /// The servers, as one comma-separated string, for messages.
  std::string servers() const;

  /// The shared state, for the sources and sinks.
  const std::shared_ptr<detail::connection_state>& state() const noexcept { return m_state; }

 private:
  std::shared_ptr<detail::connection_state> m_state;
};

/// The header that carries an event's time: its nanoseconds since the Unix epoch, in decimal.
inline constexpr const char* time_header = "Asp-Time";

}  // namespace asp::nats

#pragma once

// Results published to JetStream: each with its event time in a header and a message id by
// which JetStream drops a repeat, asynchronously, with a bounded number in flight.

#include <asp/data/codec.hpp>
#include <asp/loop.hpp>
#include <asp/nats/connection.hpp>
#include <asp/time.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace asp::nats {

/// Where and how a publisher publishes.
struct publish_options {
  /// The subject of `publish(time, value)`.
  std::string subject{};
  /// Names the publisher in errors, and starts its message ids.
  std::string name = "publisher";
  /// Publishes sent and not yet acknowledged, at most; `publish` waits beyond it.
  std::size_t max_in_flight = 4096;
  /// Give every message the id "<name>-<n>", n counting this publisher's messages from 1, in
  /// the Nats-Msg-Id header: a deterministic replay that publishes again the same results
  /// within the stream's duplicate window stores each only once.
  bool message_ids = true;
  /// How long `flush` waits for the acknowledgements (and the retries below).
  std::chrono::milliseconds flush_timeout{30000};
  /// A message JetStream did not store for a passing reason — no acknowledgement in time (the
  /// connection's api_timeout), a lost connection, a cluster electing a leader — is sent again
  /// with its id, by a thread of the publisher's, in the order of the failures, after a pause
  /// of 100 ms per attempt (at most a second): at most `max_attempts` sends in all, and none
  /// later than `retry_for` after its first failure; then, or for any other refusal (no stream
  /// for the subject, a wrong sequence), the run fails. Only messages with ids are sent again
  /// (`message_ids`): without one, a retry could store a message twice. A send that cannot
  /// leave — the connection broke under its write, or is being re-established with its buffer
  /// full — is tried again by `publish` itself, after a pause of 10 ms per try (at most 100
  /// ms), until `retry_for` has passed.
  std::size_t max_attempts = 60;
  std::chrono::milliseconds retry_for{60000};
};

namespace detail {

/// The untyped part of a publisher.
class publisher_core {
 public:
  publisher_core(loop& l, const connection& c, publish_options options);
  ~publisher_core();
  publisher_core(const publisher_core&) = delete;
  publisher_core& operator=(const publisher_core&) = delete;

  /// Publishes `payload` at `t`: to `subject`, or to the options' subject when it is empty,
  /// with `headers` besides Asp-Time (and the message id).
  void publish(std::string_view subject, time_point t, std::string_view payload,
               const std::vector<std::pair<std::string, std::string>>& headers = {});
  void flush();
  std::uint64_t published() const noexcept;
  std::uint64_t failed() const noexcept;
  std::uint64_t resent() const noexcept;

  struct impl;

 private:
  std::shared_ptr<impl> m_impl;
};

}  // namespace detail

/// Publishes values to JetStream, each encoded by `Codec::encode(value, std::string&)` with
/// its event time in the Asp-Time header.
///
/// Publishing is asynchronous: `publish` returns once the message is sent, and at most
/// `max_in_flight` wait for their acknowledgement (beyond that `publish` waits). A message not
/// stored for a passing reason (a leader election, a lost connection) is sent again with its
/// id (publish_options::max_attempts, retry_for); a publish JetStream refuses for good (no
/// stream for the subject), or one still not stored after its retries, fails the loop's run
/// with asp::input_error naming the publisher, the message id and the subject; `flush` waits
/// for every acknowledgement and retry and throws the first such error too. Use it from the
/// loop's thread.
///
/// The guarantee: every message published is stored at least once, or the run fails. It is
/// stored once while JetStream's duplicate window (two minutes by default) holds its id and
/// one leader acknowledges both sends; a send the old leader stored but did not acknowledge
/// before an election, sent again to the new one, can be stored twice (two sequences, one
/// payload), and a retried message can be stored after messages published after it.
template <class V, class Codec = data::codec<V>>
class publisher {
 public:
  publisher(loop& l, const connection& c, publish_options options)
      : m_core(std::make_unique<detail::publisher_core>(l, c, std::move(options))) {}

  /// Publishes `value` at `t` to the publisher's subject.
  void publish(time_point t, const V& value) { publish({}, t, value); }

  /// Publishes `value` at `t` to `subject`.
  void publish(std::string_view subject, time_point t, const V& value) {
    m_buffer.clear();
    Codec::encode(value, m_buffer);
    m_core->publish(subject, t, m_buffer);
  }

  /// Publishes `value` at `t` to `subject` with `headers` besides Asp-Time and the message id
  /// (a recorded message published again with what it carried; a Nats-Msg-Id among them is
  /// its id, in place of the publisher's).
  void publish(std::string_view subject, time_point t, const V& value,
               const std::vector<std::pair<std::string, std::string>>& headers) {
    m_buffer.clear();
    Codec::encode(value, m_buffer);
    m_core->publish(subject, t, m_buffer, headers);
  }

  /// Waits until every message is acknowledged; throws asp::input_error for the first that
  /// failed, or when they are not all acknowledged within flush_timeout.
  void flush() { m_core->flush(); }

  /// Messages published so far, and how many of them JetStream refused.
  std::uint64_t published() const noexcept { return m_core->published(); }
  std::uint64_t failed() const noexcept { return m_core->failed(); }
  /// Sends of messages again after a passing failure (a leader election, a lost connection).
  std::uint64_t resent() const noexcept { return m_core->resent(); }

 private:
  std::unique_ptr<detail::publisher_core> m_core;
  std::string m_buffer;
};

}  // namespace asp::nats

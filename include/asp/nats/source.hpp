#pragma once

// A JetStream subject as an ASP stream: the history from a start time or sequence, replayed
// fast-forward as the past, then the live messages as the future, with no gap and no
// duplicate at the seam.

#include <asp/data/codec.hpp>
#include <asp/error.hpp>
#include <asp/event.hpp>
#include <asp/generator.hpp>
#include <asp/loop.hpp>
#include <asp/nats/connection.hpp>
#include <asp/stream.hpp>
#include <asp/task.hpp>
#include <asp/time.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace asp::nats {

/// Start from the first message at or after this stream sequence number.
struct from_sequence {
  std::uint64_t sequence = 1;
};
/// Start with the messages published after the subscription: no history.
struct new_only_t {};
inline constexpr new_only_t new_only{};

/// Where the history starts: an event time (the first message whose time is at or after it),
/// a stream sequence, or nothing but new messages.
using start_position = std::variant<time_point, from_sequence, new_only_t>;

/// Where an event's time comes from.
enum class time_source {
  header,  ///< the Asp-Time header that asp::nats sinks and `asp play` write
  server,  ///< the time the server stored the message at
};

/// What to read from JetStream, from where, and how.
struct subscribe_options {
  /// The JetStream stream.
  std::string stream{};
  /// Which of its subjects: a filter with wildcards ("trades.>", "trades.2.*").
  std::string subject = ">";
  /// Where the history starts; by default, at the stream's first message.
  start_position start = from_sequence{1};
  /// For a start time on a stream that several producers write unsynchronised: how much
  /// earlier a message's time may be than the time of a message stored before it. The start
  /// search needs times that do not decrease in sequence order; with this it looks for
  /// `start - start_tolerance` instead, and drops what is earlier than the start. Whenever no
  /// message is more than this earlier than one stored before it, the history holds every
  /// message at or after the start (exactly those); 0 (the default) is right for one producer.
  duration start_tolerance{0};
  /// Where event times come from.
  time_source times = time_source::header;
  /// The past ends with the first message after which at most this many are pending on the
  /// server. 0 is exact: the past is everything stored when replay catches up. When live
  /// traffic arrives faster than replay, pending may never fall to 0; a threshold ends the
  /// past earlier, and the messages still pending then come as live events (in order, each
  /// once, with their own times). Without follow_live the history is everything matching
  /// that the stream held when the source was made, whatever the threshold (and whatever a
  /// consumer on a lagging replica counts), confirmed by the stream's leader.
  std::uint64_t caught_up_pending = 0;
  /// Replay fails with asp::input_error when no message arrives for this long while history
  /// is still pending (a server gone for good). Reconnection and a new leader take less.
  std::chrono::milliseconds stall_timeout{60000};
  /// After the past: follow live messages (true), or end the stream (false, a backtest).
  bool follow_live = true;
  /// Live messages received and not yet taken by the loop, at most; the receiving thread
  /// waits beyond it (and the server then holds the rest).
  std::size_t live_capacity = 65536;
  /// Fill message::headers with each message's headers (other than Asp-Time), as a recorder
  /// keeps them. Off by default: reading them costs an allocation or two a message.
  bool keep_headers = false;
};

/// A message as a stream delivers it: the decoded payload and where it came from.
template <class V>
struct message {
  V value;
  std::string subject{};
  std::uint64_t sequence = 0;  ///< the stream sequence number
  time_point stored{};         ///< when the server stored it
  /// Its headers but Asp-Time, by name (the values of a name that repeats in their order);
  /// with subscribe_options::keep_headers only.
  std::vector<std::pair<std::string, std::string>> headers{};
};

namespace detail {

/// A received message, owned: its payload and subject, and what was read from its
/// metadata and headers when it was received.
class raw_message {
 public:
  raw_message() = default;
  explicit raw_message(void* msg) noexcept : m_msg(msg) {}
  raw_message(raw_message&& other) noexcept;
  raw_message& operator=(raw_message&& other) noexcept;
  ~raw_message();

  std::string_view data() const noexcept;
  std::string_view subject() const noexcept;
  /// Its headers but Asp-Time, by name.
  std::vector<std::pair<std::string, std::string>> headers() const;

  std::uint64_t sequence = 0;
  std::uint64_t pending = 0;
  time_point stored{};
  time_point time{};
  /// Why it cannot be an event: not a JetStream delivery, or no readable event time ("" when
  /// it can).
  std::string unusable;

 private:
  void* m_msg = nullptr;  // natsMsg*
};

/// The subscription behind a subject source: an ordered consumer from the start sequence,
/// whose messages the past takes (blocking, on the loop's thread) until replay has caught up,
/// and a receiver thread after, into the live source's channel.
class subscription_core {
 public:
  subscription_core(loop& l, const connection& c, subscribe_options options);
  ~subscription_core();
  subscription_core(const subscription_core&) = delete;
  subscription_core& operator=(const subscription_core&) = delete;

  /// The next message of the past, or std::nullopt when the past is over. Throws
  /// asp::input_error after stall_timeout without a message while history is pending.
  std::optional<raw_message> next_past();
  /// The next live message, or std::nullopt once closed.
  task<std::optional<raw_message>> next_live();
  /// Ends the subscription; the live source then ends.
  void close();

  /// "nats stream 'S' sequence N (subject X)", for errors.
  std::string describe(const raw_message& m) const;
  /// The start sequence the history was found to begin at.
  std::uint64_t start_sequence() const noexcept;
  /// Whether events carry their messages' headers (subscribe_options::keep_headers).
  bool keeps_headers() const noexcept;
  /// Messages received again (a sequence not after the last one) and dropped.
  std::uint64_t repeats_dropped() const noexcept;

  struct impl;

 private:
  std::shared_ptr<impl> m_impl;
};

template <class V, class Codec>
event<message<V>> decode(const subscription_core& core, raw_message& m) {
  if (!m.unusable.empty()) throw input_error(core.describe(m) + ": " + m.unusable);
  try {
    event<message<V>> e{m.time, message<V>{Codec::decode(m.data()), std::string(m.subject()),
                                           m.sequence, m.stored}};
    if (core.keeps_headers()) e.value.headers = m.headers();
    return e;
  } catch (const std::exception& e) {
    throw input_error(core.describe(m) + ": cannot decode the payload: " + e.what());
  }
}

}  // namespace detail

/// A JetStream subject from a start: `past()` is the history, `live()` the messages after it.
/// Hand both to one stream (`asp::process_stream(callback, s.past(), s.live(), options)`, or
/// `process_subject`); events carry `message<V>`, the payload decoded by
/// `Codec::decode(std::string_view)` (asp::data::codec: strings, trivially copyable types, and
/// the record log's codecs).
///
/// The history's start is found on construction. For a start time, by binary search over
/// single messages (direct gets, or the stream's message-get API), which needs times that do
/// not decrease in sequence order, as one producer or a recorder writes them: a message stored
/// before a later-timed one but found by the search to lie after the start would be missed.
/// Streams of several unsynchronised producers set subscribe_options::start_tolerance to
/// their clocks' and paths' skew. Messages earlier than the start time after it are dropped;
/// those that remain come in sequence order, so times from several producers may decrease (the
/// stream's out_of_order policy decides). The past ends at the caught-up moment (see
/// caught_up_pending), where `on_live_start` runs; one ordered consumer delivers both, so the seam
/// has no gap and no duplicate, across reconnects and leader changes too. Copies share the
/// subscription; `close()` ends it.
template <class V, class Codec = data::codec<V>>
class subject_source {
 public:
  subject_source(loop& l, const connection& c, subscribe_options options)
      : m_core(std::make_shared<detail::subscription_core>(l, c, std::move(options))) {}

  /// The live messages after the history: a closable live source.
  class live_messages {
   public:
    explicit live_messages(std::shared_ptr<detail::subscription_core> core)
        : m_core(std::move(core)) {}
    task<std::optional<event<message<V>>>> next() {
      std::optional<detail::raw_message> m = co_await m_core->next_live();
      if (!m) co_return std::nullopt;
      co_return detail::decode<V, Codec>(*m_core, *m);
    }
    void close() { m_core->close(); }

   private:
    std::shared_ptr<detail::subscription_core> m_core;
  };

  /// The history: a single-pass input range of event<message<V>>. Reading it blocks the loop's
  /// thread while a message is on its way, as reading a file does.
  generator<const event<message<V>>&> past() const { return read_past(m_core); }
  live_messages live() const { return live_messages{m_core}; }
  /// Ends the subscription: the live part ends after what it has received.
  void close() { m_core->close(); }
  /// The stream sequence the history starts at.
  std::uint64_t start_sequence() const noexcept { return m_core->start_sequence(); }
  /// Messages that arrived again after a consumer was created anew (a sequence not after the
  /// last one received) and were dropped: each sequence is delivered once, in order.
  std::uint64_t repeats_dropped() const noexcept { return m_core->repeats_dropped(); }

 private:
  static generator<const event<message<V>>&> read_past(
      std::shared_ptr<detail::subscription_core> core) {
    while (std::optional<detail::raw_message> m = core->next_past()) {
      const event<message<V>> e = detail::decode<V, Codec>(*core, *m);
      co_yield e;
    }
  }

  std::shared_ptr<detail::subscription_core> m_core;
};

/// `process_stream(callback, past, live, stream_options)` over a JetStream subject: the
/// callback receives `(time, const message<V>&)`.
template <class V, class Codec = data::codec<V>, class Callback>
auto process_subject(Callback callback, loop& l, const connection& c, subscribe_options options,
                     stream_options stream = {}) {
  if (stream.name.empty()) stream.name = options.stream + ":" + options.subject;
  subject_source<V, Codec> source(l, c, std::move(options));
  return process_stream(std::move(callback), source.past(), source.live(), std::move(stream));
}

}  // namespace asp::nats

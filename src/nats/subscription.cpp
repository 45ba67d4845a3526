// A JetStream subject read from a start: the start sequence found by binary search over single
// messages (direct gets where the stream allows them, the stream's message-get API where it
// does not), one ordered consumer from it (a synchronous subscription), whose messages the
// past takes on the loop's thread until replay has caught up, and a receiver thread after
// that, into the live source's channel.

#include <asp/channel.hpp>
#include <asp/data/time_text.hpp>
#include <asp/error.hpp>
#include <asp/nats/source.hpp>

#include "nats_support.hpp"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

namespace asp::nats::detail {

raw_message::raw_message(raw_message&& other) noexcept
    : sequence(other.sequence),
      pending(other.pending),
      stored(other.stored),
      time(other.time),
      unusable(std::move(other.unusable)),
      m_msg(std::exchange(other.m_msg, nullptr)) {}

raw_message& raw_message::operator=(raw_message&& other) noexcept {
  if (this != &other) {
    if (m_msg != nullptr) natsMsg_Destroy(static_cast<natsMsg*>(m_msg));
    m_msg = std::exchange(other.m_msg, nullptr);
    sequence = other.sequence;
    pending = other.pending;
    stored = other.stored;
    time = other.time;
    unusable = std::move(other.unusable);
  }
  return *this;
}

raw_message::~raw_message() {
  if (m_msg != nullptr) natsMsg_Destroy(static_cast<natsMsg*>(m_msg));
}

std::string_view raw_message::data() const noexcept {
  const auto* msg = static_cast<const natsMsg*>(m_msg);
  return {natsMsg_GetData(msg), static_cast<std::size_t>(natsMsg_GetDataLength(msg))};
}

std::string_view raw_message::subject() const noexcept {
  return natsMsg_GetSubject(static_cast<const natsMsg*>(m_msg));
}

std::vector<std::pair<std::string, std::string>> raw_message::headers() const {
  auto out = headers_of(static_cast<natsMsg*>(m_msg), time_header);
  // nats.c keeps headers in a hash: by name, for an order that does not change.
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

namespace {

time_point from_ns(std::int64_t ns) {
  return time_point(std::chrono::nanoseconds(ns));
}

}  // namespace

struct subscription_core::impl {
  impl(loop& l, std::shared_ptr<connection_state> c, subscribe_options o)
      : conn(std::move(c)),
        options(std::move(o)),
        where("nats stream '" + options.stream + "' subject '" + options.subject + "' at " +
              conn->servers()),
        live(l, options.live_capacity, when_full::block, where) {}

  std::shared_ptr<connection_state> conn;
  subscribe_options options;
  std::string where;
  std::uint64_t start_seq = 1;
  std::optional<time_point> start_time;  // messages before it are dropped from the past
  bool direct = true;                    // the stream answers direct gets
  std::uint64_t last_sequence = 0;       // the stream's, when the source was made
  std::uint64_t more_history_at = 0;     // a matching message the leader has (history_from)
  natsSubscription* sub = nullptr;       // synchronous: its messages are taken with NextMsg
  channel<raw_message> live;
  std::thread receiver;  // takes the live messages into `live`, once the past is over
  std::atomic<bool> closed{false};
  std::mutex closing;

  // The loop's thread while the past lasts, then the receiver's (started after).
  std::uint64_t last_received = 0;
  std::atomic<std::uint64_t> repeats_dropped{0};

  // The loop's thread.
  bool past_over = false;
  bool nothing_pending_at_start = false;

  // The next message, read as it arrives: its metadata and event time. A stream sequence at
  // or before the last one received is a repeat and skipped: nats.c's ordered consumer,
  // created again after its server died, can start before where it stopped (seen in the
  // failover test under load). Each sequence is delivered once, in order.
  natsStatus receive(raw_message& m, std::int64_t timeout_ms) {
    for (;;) {
      natsMsg* msg = nullptr;
      const natsStatus s = natsSubscription_NextMsg(&msg, sub, timeout_ms);
      if (s != NATS_OK) return s;
      m = raw_message(msg);
      std::int64_t stored_ns = 0;
      if (!parse_ack_reply(natsMsg_GetReply(msg), m.sequence, stored_ns, m.pending)) {
        const char* reply = natsMsg_GetReply(msg);
        m.unusable = "not a JetStream message (reply subject '" +
                     std::string(reply != nullptr ? reply : "") + "')";
        return NATS_OK;
      }
      if (m.sequence <= last_received) {
        repeats_dropped.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      last_received = m.sequence;
      m.stored = from_ns(stored_ns);
      m.time = m.stored;
      if (options.times == time_source::header) {
        std::int64_t ns = 0;
        m.unusable = read_time_header(msg, ns);
        if (m.unusable.empty()) m.time = from_ns(ns);
      }
      return NATS_OK;
    }
  }

  // The receiver's thread: live messages into the channel until closed.
  void receive_live() {
    while (!closed.load(std::memory_order_acquire)) {
      raw_message m;
      const natsStatus s = receive(m, 1000);
      if (s == NATS_TIMEOUT) continue;
      if (s != NATS_OK) return;  // unsubscribed, or the connection closed for good
      const time_point t = m.time;
      try {
        live.push(t, std::move(m));
      } catch (const std::logic_error&) {
        return;  // closed (or its loop is gone) while it waited: nothing takes it any more
      }
    }
  }

  // The time a direct get carries: its Asp-Time header, or the server's Nats-Time-Stamp.
  time_point direct_time(natsMsg* msg, std::uint64_t seq) const {
    if (options.times == time_source::header) {
      std::int64_t ns = 0;
      const std::string why = read_time_header(msg, ns);
      if (!why.empty()) {
        throw input_error("asp::nats: " + where + ": sequence " + std::to_string(seq) + ": " + why);
      }
      return from_ns(ns);
    }
    const char* stamp = nullptr;
    std::string why;
    if (natsMsgHeader_Get(msg, "Nats-Time-Stamp", &stamp) == NATS_OK) {
      if (auto t = data::parse_iso8601(stamp, &why)) return *t;
    }
    throw input_error("asp::nats: " + where + ": sequence " + std::to_string(seq) +
                      ": no server time stamp " + why);
  }

  // The time of a message got from the stream's message-get API: its Asp-Time header, or the
  // time the server stored it.
  time_point stored_message_time(natsMsg* msg, std::uint64_t seq) const {
    if (options.times == time_source::header) return direct_time(msg, seq);
    return from_ns(natsMsg_GetTime(msg));
  }

  // Without direct gets: the first message of the stream (of any subject) at or after `seq`,
  // by the stream's message-get API ($JS.API.STREAM.MSG.GET, which every stream answers, from
  // its leader), stepping over deleted sequences. The search it serves then needs times that
  // do not decrease in the stream's sequence order, not only the subject's.
  std::optional<std::pair<std::uint64_t, time_point>> next_stored(std::uint64_t seq) {
    for (; seq <= last_sequence; ++seq) {
      jsOptions o = conn->api_options();
      natsMsg* msg = nullptr;
      jsErrCode jerr = static_cast<jsErrCode>(0);
      const natsStatus s = with_retry(conn->options, jerr, [&](jsErrCode& e) {
        return js_GetMsg(&msg, conn->js, options.stream.c_str(), seq, &o, &e);
      });
      if (s == NATS_NOT_FOUND || jerr == JSNoMessageFoundErr) continue;  // deleted
      if (s != NATS_OK) {
        throw input_error("asp::nats: " + where + ": cannot read the message at sequence " +
                          std::to_string(seq) +
                          " with the stream's message-get API (the stream does not allow "
                          "direct gets): " +
                          error_text(s, jerr));
      }
      const std::unique_ptr<natsMsg, decltype(&natsMsg_Destroy)> owner(msg, natsMsg_Destroy);
      return std::pair{seq, stored_message_time(msg, seq)};
    }
    return std::nullopt;
  }

  // The sequence of the first message matching the filter at or after `seq` as the stream's
  // leader has it (its message-get API with next_by_subj), or nothing. A direct get or a
  // consumer may be served by a replica that has not yet applied the newest messages the
  // leader acknowledged: what ends the history, or finds it empty, asks the leader.
  std::optional<std::uint64_t> stored_matching(std::uint64_t seq) {
    const std::string body = "{\"seq\":" + std::to_string(seq) +
                             ",\"next_by_subj\":" + json_string(options.subject) + "}";
    const std::string api = "$JS.API.STREAM.MSG.GET." + options.stream;
    natsMsg* reply = nullptr;
    std::string text;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    const natsStatus s = with_retry(conn->options, jerr, [&](jsErrCode& e) {
      if (reply != nullptr) natsMsg_Destroy(reply);
      reply = nullptr;
      const natsStatus r = natsConnection_RequestString(&reply, conn->nc, api.c_str(), body.c_str(),
                                                        conn->options.api_timeout.count());
      if (r != NATS_OK) return r;
      text.assign(natsMsg_GetData(reply), static_cast<std::size_t>(natsMsg_GetDataLength(reply)));
      e = static_cast<jsErrCode>(json_number(text, "\"err_code\":").value_or(0));
      return e == 0 ? NATS_OK : NATS_ERR;
    });
    if (reply != nullptr) natsMsg_Destroy(reply);
    if (jerr == JSNoMessageFoundErr) return std::nullopt;
    const std::optional<std::uint64_t> found =
        s == NATS_OK ? json_number(text, "\"seq\":") : std::nullopt;
    if (!found) {
      throw input_error("asp::nats: " + where +
                        ": cannot ask the stream's leader for the message " +
                        "at or after sequence " + std::to_string(seq) + " (" + api +
                        "): " + (s == NATS_OK ? "no sequence in its answer" : error_text(s, jerr)));
    }
    return found;
  }

  // The unsigned number after `key` in a JetStream API answer, if any.
  static std::optional<std::uint64_t> json_number(std::string_view text, std::string_view key) {
    const std::size_t at = text.find(key);
    if (at == std::string_view::npos) return std::nullopt;
    std::uint64_t n = 0;
    const char* first = text.data() + at + key.size();
    const auto [end, ec] = std::from_chars(first, text.data() + text.size(), n);
    if (ec != std::errc() || end == first) return std::nullopt;
    return n;
  }

  // Whether the leader holds a message matching the filter from `seq` to the stream's last
  // sequence when the source was made: what the history is, whatever a direct get or the
  // consumer's server (a replica that may lag) says.
  bool history_from(std::uint64_t seq) {
    if (seq > last_sequence) return false;
    if (seq <= more_history_at) return true;
    const std::optional<std::uint64_t> next = stored_matching(seq);
    if (!next || *next > last_sequence) return false;
    more_history_at = *next;
    return true;
  }

  // The first message matching the filter at or after `seq`: its sequence and time (without
  // direct gets, of any subject: see next_stored).
  std::optional<std::pair<std::uint64_t, time_point>> next_matching(std::uint64_t seq) {
    if (!direct) return next_stored(seq);
    jsDirectGetMsgOptions dg;
    jsDirectGetMsgOptions_Init(&dg);
    dg.Sequence = seq;
    dg.NextBySubject = options.subject.c_str();
    jsOptions o = conn->api_options();
    natsMsg* msg = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    const natsStatus s = with_retry(conn->options, jerr, [&](jsErrCode&) {
      return js_DirectGetMsg(&msg, conn->js, options.stream.c_str(), &o, &dg);
    });
    if (s == NATS_NOT_FOUND) return std::nullopt;
    if (s != NATS_OK) {
      throw input_error("asp::nats: " + where + ": cannot read the message at sequence " +
                        std::to_string(seq) + " with a direct get: " + error_text(s, jerr));
    }
    const std::unique_ptr<natsMsg, decltype(&natsMsg_Destroy)> owner(msg, natsMsg_Destroy);
    const std::uint64_t found = natsMsg_GetSequence(msg);
    return std::pair{found, direct_time(msg, found)};
  }

  // The sequence of the first matching message at or after `t` (the end when there is none),
  // by binary search: the messages' times must not decrease in sequence order.
  std::uint64_t sequence_at(time_point t, const stream_state& state) {
    std::uint64_t lo = std::max<std::uint64_t>(state.first_sequence, 1);
    std::uint64_t hi = state.last_sequence + 1;
    while (lo < hi) {
      const std::uint64_t mid = lo + (hi - lo) / 2;
      const auto found = next_matching(mid);
      if (!found || found->second >= t) {
        hi = mid;
      } else {
        lo = found->first + 1;
      }
    }
    // The first matching message from there.
    if (lo > state.last_sequence) return lo;
    const auto first = next_matching(lo);
    return first ? first->first : state.last_sequence + 1;
  }

  void subscribe() {
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = options.stream.c_str();
    so.Ordered = true;
    so.Config.DeliverPolicy = js_DeliverByStartSequence;
    so.Config.OptStartSeq = start_seq;
    // The server's idle heartbeat: missing ones tell nats.c that the consumer is lost (its
    // server died) and must be created again from the last sequence delivered.
    so.Config.Heartbeat = std::chrono::nanoseconds(std::chrono::seconds(1)).count();
    jsOptions o = conn->api_options();
    jsErrCode jerr = static_cast<jsErrCode>(0);
    natsStatus s = with_retry(conn->options, jerr, [&](jsErrCode& e) {
      return js_SubscribeSync(&sub, conn->js, options.subject.c_str(), &o, &so, &e);
    });
    if (s != NATS_OK) {
      throw input_error("asp::nats: " + where + ": cannot subscribe from sequence " +
                        std::to_string(start_seq) + ": " + error_text(s, jerr));
    }
  }

  // The past ends here: the receiver takes what follows, or (without follow_live) the
  // subscription ends.
  void finish_past() {
    past_over = true;
    if (options.follow_live && !closed.load(std::memory_order_acquire)) {
      receiver = std::thread([this] { receive_live(); });
    } else {
      close();
    }
  }

  void close() {
    std::lock_guard lock(closing);
    if (closed.exchange(true, std::memory_order_acq_rel)) return;
    live.close();
    // A receiver waiting in NextMsg returns once the subscription is gone.
    if (sub != nullptr) natsSubscription_Unsubscribe(sub);
    if (receiver.joinable() && receiver.get_id() != std::this_thread::get_id()) receiver.join();
  }
};

subscription_core::subscription_core(loop& l, const connection& c, subscribe_options options)
    : m_impl(std::make_shared<impl>(l, c.state(), std::move(options))) {
  impl& self = *m_impl;
  if (self.options.stream.empty()) throw input_error("asp::nats: no stream to subscribe to");
  if (self.options.live_capacity == 0) {
    throw input_error("asp::nats: " + self.where + ": live_capacity must be positive");
  }
  const stream_state state = c.stream_info(self.options.stream);
  self.direct = state.allow_direct;
  self.last_sequence = state.last_sequence;
  if (const auto* seq = std::get_if<from_sequence>(&self.options.start)) {
    self.start_seq = std::max<std::uint64_t>(seq->sequence, 1);
  } else if (std::holds_alternative<new_only_t>(self.options.start)) {
    self.start_seq = state.last_sequence + 1;
  } else {
    const time_point t = std::get<time_point>(self.options.start);
    const duration tolerance = self.options.start_tolerance;
    if (tolerance < duration::zero()) {
      throw input_error("asp::nats: " + self.where + ": start_tolerance must not be negative");
    }
    self.start_time = t;
    // Saturated at the earliest time: every message is then at or after it.
    const time_point search = t < time_point::min() + tolerance ? time_point::min() : t - tolerance;
    self.start_seq = self.sequence_at(search, state);
  }
  // Whether any history follows the start: without it, the first message is live. (One that
  // is stored between this look and the subscription comes as live too.)
  self.nothing_pending_at_start = !self.history_from(self.start_seq);
  self.subscribe();
}

subscription_core::~subscription_core() {
  m_impl->close();
  if (m_impl->sub != nullptr) natsSubscription_Destroy(m_impl->sub);
  m_impl->sub = nullptr;
}

std::optional<raw_message> subscription_core::next_past() {
  impl& self = *m_impl;
  while (!self.past_over) {
    if (self.nothing_pending_at_start || self.closed.load(std::memory_order_acquire)) {
      self.finish_past();
      return std::nullopt;
    }
    raw_message m;
    const natsStatus s = self.receive(m, self.options.stall_timeout.count());
    if (s == NATS_TIMEOUT) {
      throw input_error("asp::nats: " + self.where + ": no message for " +
                        std::to_string(self.options.stall_timeout.count()) +
                        " ms while replaying history (last sequence " +
                        std::to_string(self.last_received) + ")");
    }
    if (s != NATS_OK) {
      if (self.closed.load(std::memory_order_acquire)) continue;
      throw input_error("asp::nats: " + self.where + ": cannot read history after sequence " +
                        std::to_string(self.last_received) + ": " + error_text(s));
    }
    // Without live messages to follow, the history ends at the last matching message the
    // stream held when the source was made; the consumer's count of what is pending may come
    // from a replica that lags the leader (seen after a leader election).
    const bool last = m.unusable.empty() && m.pending <= self.options.caught_up_pending &&
                      (self.options.follow_live || !self.history_from(m.sequence + 1));
    if (last) self.finish_past();
    if (self.start_time && m.unusable.empty() && m.time < *self.start_time) {
      if (last) return std::nullopt;
      continue;
    }
    return m;
  }
  return std::nullopt;
}

task<std::optional<raw_message>> subscription_core::next_live() {
  // Keep the state alive across the suspension: the source may be closed meanwhile.
  const std::shared_ptr<impl> self = m_impl;
  // A stream with no past part: history, if any, comes as live events.
  if (!self->past_over) self->finish_past();
  std::optional<event<raw_message>> e = co_await self->live.next();
  if (!e) co_return std::nullopt;
  co_return std::move(e->value);
}

void subscription_core::close() {
  m_impl->close();
}

std::string subscription_core::describe(const raw_message& m) const {
  return "asp::nats: " + m_impl->where + ": sequence " + std::to_string(m.sequence) + " (subject " +
         std::string(m.subject()) + ")";
}

std::uint64_t subscription_core::start_sequence() const noexcept {
  return m_impl->start_seq;
}

bool subscription_core::keeps_headers() const noexcept {
  return m_impl->options.keep_headers;
}

std::uint64_t subscription_core::repeats_dropped() const noexcept {
  return m_impl->repeats_dropped.load(std::memory_order_relaxed);
}

}  // namespace asp::nats::detail

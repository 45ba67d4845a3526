// A JetStream subject read from a start: the start sequence found by binary search over
// direct gets, one ordered consumer from it, its messages handed from the receiving thread to
// the past (until replay has caught up) and then to the live source.

#include <asp/channel.hpp>
#include <asp/data/time_text.hpp>
#include <asp/error.hpp>
#include <asp/nats/source.hpp>

#include "nats_support.hpp"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <utility>

namespace asp::nats::detail {

raw_message::raw_message(raw_message&& other) noexcept
    : sequence(other.sequence),
      pending(other.pending),
      stored(other.stored),
      time(other.time),
      bad_time(std::move(other.bad_time)),
      m_msg(std::exchange(other.m_msg, nullptr)) {}

raw_message& raw_message::operator=(raw_message&& other) noexcept {
  if (this != &other) {
    if (m_msg != nullptr) natsMsg_Destroy(static_cast<natsMsg*>(m_msg));
    m_msg = std::exchange(other.m_msg, nullptr);
    sequence = other.sequence;
    pending = other.pending;
    stored = other.stored;
    time = other.time;
    bad_time = std::move(other.bad_time);
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
  natsSubscription* sub = nullptr;
  channel<raw_message> live;

  // Between the receiving thread and the loop's thread.
  std::mutex mutex;
  std::condition_variable arrived;  // the past's reader waits for a message
  std::condition_variable space;    // the receiving thread waits for room
  std::condition_variable completed;
  std::deque<raw_message> inbox;
  bool reader_waiting = false;
  bool is_live = false;
  bool closed = false;
  bool complete = false;

  // The receiving thread only (nats.c calls on_message from one thread at a time).
  std::uint64_t last_received = 0;
  std::atomic<std::uint64_t> repeats_dropped{0};

  // The loop's thread only.
  std::deque<raw_message> taken;  // a batch taken from the inbox
  std::deque<raw_message> carry;  // what arrived before the switch to live, for the live side
  bool past_over = false;
  bool nothing_pending_at_start = false;
  std::uint64_t last_sequence = 0;

  static void on_message(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
    auto& self = *static_cast<impl*>(closure);
    raw_message m(msg);
    std::int64_t stored_ns = 0;
    if (!parse_ack_reply(natsMsg_GetReply(msg), m.sequence, stored_ns, m.pending)) {
      m.bad_time = "not a JetStream message (reply subject '" +
                   std::string(natsMsg_GetReply(msg) ? natsMsg_GetReply(msg) : "") + "')";
    }
    // A stream sequence at or before the last one received is a repeat: nats.c's ordered
    // consumer, created again after its server died, can start before where it stopped (seen
    // in the failover test under load). The source delivers each sequence once, in order.
    if (m.bad_time.empty()) {
      if (m.sequence <= self.last_received) {
        self.repeats_dropped.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      self.last_received = m.sequence;
    }
    m.stored = from_ns(stored_ns);
    m.time = m.stored;
    if (self.options.times == time_source::header && m.bad_time.empty()) {
      std::int64_t ns = 0;
      m.bad_time = read_time_header(msg, ns);
      if (m.bad_time.empty()) m.time = from_ns(ns);
    }
    {
      std::unique_lock lock(self.mutex);
      if (!self.is_live) {
        self.space.wait(lock, [&] {
          return self.closed || self.is_live || self.inbox.size() < self.options.live_capacity;
        });
        if (self.closed) return;
        if (!self.is_live) {
          self.inbox.push_back(std::move(m));
          if (self.reader_waiting) self.arrived.notify_one();
          return;
        }
      }
      if (self.closed) return;
    }
    const time_point t = m.time;
    try {
      self.live.push(t, std::move(m));
    } catch (const std::logic_error&) {
      // Closed (or its loop is gone) while it waited: nothing takes it any more.
    }
  }

  static void on_complete(void* closure) {
    auto& self = *static_cast<impl*>(closure);
    std::lock_guard lock(self.mutex);
    self.complete = true;
    self.completed.notify_all();
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

  // The first message matching the filter at or after `seq`: its sequence and time.
  std::optional<std::pair<std::uint64_t, time_point>> next_matching(std::uint64_t seq) {
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
                        std::to_string(seq) + ": " + error_text(s, jerr));
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
      return js_Subscribe(&sub, conn->js, options.subject.c_str(), &impl::on_message, this, &o, &so,
                          &e);
    });
    if (s == NATS_OK) s = natsSubscription_SetOnCompleteCB(sub, &impl::on_complete, this);
    if (s != NATS_OK) {
      throw input_error("asp::nats: " + where + ": cannot subscribe from sequence " +
                        std::to_string(start_seq) + ": " + error_text(s, jerr));
    }
  }

  // The past ends here: what arrived after the last past message goes to the live side.
  // Without follow_live the subscription ends here.
  void finish_past() {
    past_over = true;
    {
      std::lock_guard lock(mutex);
      is_live = true;
      space.notify_all();
      if (options.follow_live) {
        for (raw_message& m : taken) carry.push_back(std::move(m));
        for (raw_message& m : inbox) carry.push_back(std::move(m));
      }
      taken.clear();
      inbox.clear();
    }
    if (!options.follow_live) close();
  }

  void close() {
    {
      std::lock_guard lock(mutex);
      if (closed) return;
      closed = true;
      arrived.notify_all();
      space.notify_all();
    }
    live.close();
    if (sub == nullptr) return;
    const natsStatus s = natsSubscription_Unsubscribe(sub);
    std::unique_lock lock(mutex);
    // The receiving thread calls on_complete after its last message; once the connection is
    // closed there is no receiving left to wait for.
    if (s == NATS_OK) {
      completed.wait_for(lock, conn->options.api_timeout, [&] { return complete; });
    }
  }
};

subscription_core::subscription_core(loop& l, const connection& c, subscribe_options options)
    : m_impl(std::make_shared<impl>(l, c.state(), std::move(options))) {
  impl& self = *m_impl;
  if (self.options.stream.empty()) throw input_error("asp::nats: no stream to subscribe to");
  if (self.options.live_capacity == 0) {
    throw input_error("asp::nats: " + self.where + ": live_capacity must be positive");
  }
  connection shared = c;
  const stream_state state = shared.stream_info(self.options.stream);
  if (const auto* seq = std::get_if<from_sequence>(&self.options.start)) {
    self.start_seq = std::max<std::uint64_t>(seq->sequence, 1);
  } else if (std::holds_alternative<new_only_t>(self.options.start)) {
    self.start_seq = state.last_sequence + 1;
  } else {
    const time_point t = std::get<time_point>(self.options.start);
    self.start_time = t;
    self.start_seq = self.sequence_at(t, state);
  }
  // Whether any history follows the start: without it, the first message is live. (One that
  // is stored between this look and the subscription comes as live too.)
  self.nothing_pending_at_start = !self.next_matching(self.start_seq);
  self.subscribe();
}

subscription_core::~subscription_core() {
  m_impl->close();
  if (m_impl->sub != nullptr) natsSubscription_Destroy(m_impl->sub);
}

std::optional<raw_message> subscription_core::next_past() {
  impl& self = *m_impl;
  while (!self.past_over) {
    if (self.taken.empty()) {
      std::unique_lock lock(self.mutex);
      if (self.inbox.empty()) {
        if (self.nothing_pending_at_start || self.closed) {
          lock.unlock();
          self.finish_past();
          return std::nullopt;
        }
        self.reader_waiting = true;
        const bool got = self.arrived.wait_for(lock, self.options.stall_timeout,
                                               [&] { return !self.inbox.empty() || self.closed; });
        self.reader_waiting = false;
        if (self.closed) continue;
        if (!got) {
          throw input_error("asp::nats: " + self.where + ": no message for " +
                            std::to_string(self.options.stall_timeout.count()) +
                            " ms while replaying history (last sequence " +
                            std::to_string(self.last_sequence) + ")");
        }
      }
      self.taken.swap(self.inbox);
      self.space.notify_all();
    }
    raw_message m = std::move(self.taken.front());
    self.taken.pop_front();
    self.last_sequence = m.sequence;
    const bool last = m.pending <= self.options.caught_up_pending;
    if (last) self.finish_past();
    if (self.start_time && m.bad_time.empty() && m.time < *self.start_time) {
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
  if (!self->past_over) {
    // A stream with no past part: history, if any, comes as live events.
    self->finish_past();
  }
  if (!self->carry.empty()) {
    raw_message m = std::move(self->carry.front());
    self->carry.pop_front();
    co_return m;
  }
  if (!self->options.follow_live) co_return std::nullopt;
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

std::uint64_t subscription_core::repeats_dropped() const noexcept {
  return m_impl->repeats_dropped.load(std::memory_order_relaxed);
}

}  // namespace asp::nats::detail

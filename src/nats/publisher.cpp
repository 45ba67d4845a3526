// Publishing to JetStream: asynchronous publishes with the event time and a message id, at
// most max_in_flight unacknowledged; messages not stored for a passing reason sent again by a
// retry thread; refusals reported to the loop's run.

#include <asp/error.hpp>
#include <asp/nats/sink.hpp>

#include "nats_support.hpp"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

namespace asp::nats::detail {

// A message to send again: what it was made of, copied out of the failed one.
struct retry {
  std::string subject;
  std::string data;
  std::vector<std::pair<std::string, std::string>> headers;  // Asp-Time and the id among them
  std::size_t attempt = 0;                                   // sends so far
  std::string why;                                           // why the last send failed
  std::int64_t due_ms = 0;                                   // not sent again before (nats_Now)
  bool no_responders = false;
};

// Whether a failed asynchronous publish may succeed when sent again: no answer in time, a lost
// connection, a cluster without a leader. "No responders" is what a stream without a leader
// answers, and also what a subject without a stream gets: the retry thread asks which.
bool worth_another_send(const jsPubAckErr& pae) noexcept {
  switch (pae.Err) {
    case NATS_TIMEOUT:
    case NATS_CONNECTION_DISCONNECTED:
    case NATS_IO_ERROR:
    case NATS_NO_SERVER:
    case NATS_NO_RESPONDERS:
      return true;
    case NATS_ERR:
      return pae.ErrCode == JSClusterNotAvailErr || pae.ErrCode == JSClusterNotLeaderErr ||
             pae.ErrCode == JSStreamOfflineErr || pae.ErrCode == JSClusterNoPeersErr;
    default:
      return false;
  }
}

struct publisher_core::impl {
  std::shared_ptr<connection_state> conn;
  publish_options options;
  loop_handle target;  // the loop that publishes, reached from the library's threads
  jsCtx* js = nullptr;
  std::string subject;  // null-terminated copy of the subject at hand
  std::string id;       // the message id at hand: "<name>-<n>"
  std::atomic<std::uint64_t> published{0};
  std::atomic<std::uint64_t> failed{0};
  std::atomic<std::uint64_t> resent{0};
  std::mutex mutex;
  std::condition_variable changed;
  std::string first_error;    // guarded by mutex
  std::deque<retry> retries;  // guarded by mutex
  std::size_t resending = 0;  // guarded by mutex
  bool stopping = false;      // guarded by mutex
  std::thread retrier;

  ~impl() {
    if (js == nullptr) return;
    jsPubOptions o;
    jsPubOptions_Init(&o);
    o.MaxWait = options.flush_timeout.count();
    js_PublishAsyncComplete(js, &o);
    {
      std::lock_guard lock(mutex);
      stopping = true;
    }
    changed.notify_all();
    if (retrier.joinable()) retrier.join();
    jsCtx_Destroy(js);
  }

  std::string where() const {
    return "asp::nats: publisher '" + options.name + "' at " + conn->servers();
  }

  // The retry thread: each message in the order of the failures, after its pause.
  void resend_all() {
    std::unique_lock lock(mutex);
    for (;;) {
      changed.wait(lock, [&] { return stopping || !retries.empty(); });
      if (stopping) return;
      // In the order of the failures, each after its pause (those that failed together are due
      // together).
      if (const std::int64_t wait = retries.front().due_ms - nats_Now(); wait > 0) {
        changed.wait_for(lock, std::chrono::milliseconds(wait), [&] { return stopping; });
        continue;
      }
      retry r = std::move(retries.front());
      retries.pop_front();
      ++resending;
      if (r.no_responders) {
        lock.unlock();
        const bool none = no_stream_holds(r.subject);
        lock.lock();
        if (none) {
          // The failure is recorded in the step that ends the resend: flush() never sees
          // nothing left to send and no failure.
          --resending;
          failed.fetch_add(1, std::memory_order_relaxed);
          const std::string text = where() + ": the message " + id_of(r) + " to " + r.subject +
                                   " was not stored: no stream holds the subject (" + r.why + ")";
          const bool first = record_failure(text);
          lock.unlock();
          changed.notify_all();
          if (first) post_failure(text);
          lock.lock();
          continue;
        }
      }
      lock.unlock();
      const std::string failure = send_again(r);
      lock.lock();
      --resending;
      const bool first = !failure.empty() && record_failure(failure);
      lock.unlock();
      changed.notify_all();
      if (first) post_failure(failure);
      lock.lock();
    }
  }

  // Whether JetStream says that no stream holds the subject `to` (false when it cannot say: a meta
  // leader being elected is no answer).
  bool no_stream_holds(const std::string& to) {
    // One question a second per subject is enough: the messages of one election share it.
    const std::int64_t now = nats_Now();
    if (to == checked_subject && now - checked_at < 1000) return checked_none;
    checked_subject = to;
    checked_at = now;
    checked_none = ask_no_stream_holds(to);
    return checked_none;
  }
  std::string checked_subject;  // the retry thread's
  std::int64_t checked_at = 0;
  bool checked_none = false;

  bool ask_no_stream_holds(const std::string& to) const {
    const std::string body = "{\"subject\":" + json_string(to) + "}";
    natsMsg* reply = nullptr;
    const natsStatus s = natsConnection_RequestString(
        &reply, conn->nc, "$JS.API.STREAM.NAMES", body.c_str(), conn->options.api_timeout.count());
    if (s != NATS_OK) return false;
    const std::string_view text(natsMsg_GetData(reply),
                                static_cast<std::size_t>(natsMsg_GetDataLength(reply)));
    const bool none = text.find("\"error\"") == std::string_view::npos &&
                      (text.find("\"streams\":null") != std::string_view::npos ||
                       text.find("\"streams\":[]") != std::string_view::npos);
    natsMsg_Destroy(reply);
    return none;
  }

  static std::string id_of(const retry& r) {
    for (const auto& [name, value] : r.headers) {
      if (name == "Nats-Msg-Id") return value;
    }
    return {};
  }

  // How long an acknowledgement may take: a send whose answer was lost with its server (a
  // leader killed) fails with NATS_TIMEOUT after it, and is sent again.
  jsPubOptions ack_wait() const {
    jsPubOptions o;
    jsPubOptions_Init(&o);
    o.MaxWait = conn->options.api_timeout.count();
    return o;
  }

  // Sends `*msg`, which the library takes (and nulls) once it is on its way. A send that could
  // not start is tried again: beyond max_in_flight the call waits (StallWait) and times out,
  // until flush_timeout has passed; a connection that broke under the send (the write failed
  // before the library saw the server go) or that is being re-established with its buffer full,
  // after a pause of 10 ms per try (at most 100 ms), until retry_for has passed. The message
  // keeps its id: had the broken write delivered it, JetStream drops the second copy.
  natsStatus send(natsMsg** msg) const {
    jsPubOptions o = ack_wait();
    const std::int64_t start = nats_Now();
    for (std::int64_t pauses = 1;;) {
      const natsStatus s = js_PublishMsgAsync(js, msg, &o);
      const std::int64_t waited = nats_Now() - start;
      if (s == NATS_TIMEOUT && waited < options.flush_timeout.count()) continue;
      if (!connection_in_passing_trouble(s) || waited >= options.retry_for.count()) return s;
      std::this_thread::sleep_for(
          std::chrono::milliseconds(std::min<std::int64_t>(10 * pauses++, 100)));
    }
  }

  static bool connection_in_passing_trouble(natsStatus s) noexcept {
    return s == NATS_IO_ERROR || s == NATS_CONNECTION_DISCONNECTED || s == NATS_INSUFFICIENT_BUFFER;
  }

  // Sends `r` again; "" or why it could not be sent.
  std::string send_again(retry& r) {
    natsMsg* msg = nullptr;
    natsStatus s = natsMsg_Create(&msg, r.subject.c_str(), nullptr, r.data.data(),
                                  static_cast<int>(r.data.size()));
    for (std::size_t h = 0; s == NATS_OK && h < r.headers.size(); ++h) {
      s = natsMsgHeader_Add(msg, r.headers[h].first.c_str(), r.headers[h].second.c_str());
    }
    if (s == NATS_OK) s = send(&msg);
    if (msg != nullptr) natsMsg_Destroy(msg);  // not taken
    if (s != NATS_OK) {
      return where() + ": cannot send the message to " + r.subject + " again: " + error_text(s);
    }
    resent.fetch_add(1, std::memory_order_relaxed);
    return {};
  }

  // Fails the loop's run with `text`, where the loop is now (once: the first failure).
  void fail(const std::string& text) {
    bool first = false;
    {
      std::lock_guard lock(mutex);
      first = record_failure(text);
    }
    if (!first) return;
    changed.notify_all();
    post_failure(text);
  }

  // Under the lock: keeps `text` as the failure that flush() reports, if it is the first.
  bool record_failure(const std::string& text) {
    if (!first_error.empty()) return false;
    first_error = text;
    return true;
  }

  // Fails the loop's run with the recorded failure `text`.
  void post_failure(const std::string& text) {
    try {
      const std::exception_ptr error = std::make_exception_ptr(input_error(text));
      target.post([error, name = options.name] {
        current_loop().fail_run(error, "nats publisher '" + name + "'");
      });
    } catch (const std::logic_error&) {
      // The loop is gone; flush() still reports it.
    }
  }

  // On the connection's thread, for each publish that JetStream refused or did not answer:
  // queued to be sent again, or the run's failure.
  static void on_error(jsCtx*, jsPubAckErr* pae, void* closure) {
    auto& self = *static_cast<impl*>(closure);
    const char* id = nullptr;
    const bool has_id = natsMsgHeader_Get(pae->Msg, "Nats-Msg-Id", &id) == NATS_OK;
    const std::string why = pae->ErrText != nullptr && *pae->ErrText != '\0'
                                ? std::string(pae->ErrText)
                                : std::string(natsStatus_GetText(pae->Err));
    std::string gave_up;
    if (has_id && worth_another_send(*pae)) {
      std::lock_guard lock(self.mutex);
      const std::int64_t now = nats_Now();
      // Its failures so far, by id (counted in the message, it would change it).
      failures& f = self.failed_sends.try_emplace(id, failures{now, 0}).first->second;
      retry r;
      r.attempt = ++f.count;
      if (r.attempt < self.options.max_attempts &&
          now - f.first_ms <= self.options.retry_for.count() && !self.stopping) {
        r.subject = natsMsg_GetSubject(pae->Msg);
        r.data.assign(natsMsg_GetData(pae->Msg),
                      static_cast<std::size_t>(natsMsg_GetDataLength(pae->Msg)));
        r.headers = headers_of(pae->Msg);
        r.why = why;
        r.no_responders = pae->Err == NATS_NO_RESPONDERS;
        r.due_ms = now + static_cast<std::int64_t>(std::min<std::size_t>(100 * r.attempt, 1000));
        self.retries.push_back(std::move(r));
        self.changed.notify_all();
        return;
      }
      gave_up = " (sent " + std::to_string(r.attempt) + " times in " +
                std::to_string(now - f.first_ms) + " ms)";
    }
    self.failed.fetch_add(1, std::memory_order_relaxed);
    std::string text = self.where() + ": the message";
    if (has_id) text += std::string(" ") + id;
    text += std::string(" to ") + natsMsg_GetSubject(pae->Msg) + " was not stored: " + why;
    if (pae->ErrCode != 0)
      text += " [JetStream error " + std::to_string(static_cast<int>(pae->ErrCode)) + "]";
    self.fail(text + gave_up);
  }

  struct failures {
    std::int64_t first_ms;  // when its first send failed (nats_Now)
    std::size_t count;
  };
  std::unordered_map<std::string, failures> failed_sends;  // by id; guarded by mutex
};

publisher_core::publisher_core(loop& l, const connection& c, publish_options options)
    : m_impl(std::make_shared<impl>()) {
  impl& self = *m_impl;
  self.conn = c.state();
  self.options = std::move(options);
  self.target = l.handle();
  if (self.options.max_in_flight == 0) {
    throw input_error(self.where() + ": max_in_flight must be positive");
  }
  jsOptions o = self.conn->api_options();
  o.PublishAsync.MaxPending = static_cast<int64_t>(self.options.max_in_flight);
  o.PublishAsync.ErrHandler = &impl::on_error;
  o.PublishAsync.ErrHandlerClosure = m_impl.get();
  const natsStatus s = natsConnection_JetStream(&self.js, self.conn->nc, &o);
  if (s != NATS_OK) throw input_error(self.where() + ": " + error_text(s));
  self.retrier = std::thread([&self] { self.resend_all(); });
}

publisher_core::~publisher_core() = default;

void publisher_core::publish(std::string_view subject, time_point t, std::string_view payload,
                             const std::vector<std::pair<std::string, std::string>>& headers) {
  impl& self = *m_impl;
  const char* to = self.options.subject.c_str();
  if (!subject.empty()) {
    self.subject.assign(subject);
    to = self.subject.c_str();
  }
  natsMsg* msg = nullptr;
  natsStatus s =
      natsMsg_Create(&msg, to, nullptr, payload.data(), static_cast<int>(payload.size()));
  if (s != NATS_OK) {
    throw input_error(self.where() + ": cannot make a message for " + to + ": " + error_text(s));
  }
  std::unique_ptr<natsMsg, decltype(&natsMsg_Destroy)> owner(msg, natsMsg_Destroy);
  char stamp[24];
  const auto [end, ec] =
      std::to_chars(stamp, stamp + sizeof stamp - 1, t.time_since_epoch().count());
  *end = '\0';
  s = natsMsgHeader_Set(msg, time_header, stamp);
  // A message published again with its recorded headers keeps its recorded id.
  const bool has_id = std::any_of(headers.begin(), headers.end(),
                                  [](const auto& h) { return h.first == "Nats-Msg-Id"; });
  if (s == NATS_OK && self.options.message_ids && !has_id) {
    self.id.assign(self.options.name);
    self.id += '-';
    self.id += std::to_string(self.published.load(std::memory_order_relaxed) + 1);
    s = natsMsgHeader_Set(msg, "Nats-Msg-Id", self.id.c_str());
  }
  for (std::size_t h = 0; s == NATS_OK && h < headers.size(); ++h) {
    s = natsMsgHeader_Add(msg, headers[h].first.c_str(), headers[h].second.c_str());
  }
  if (s != NATS_OK) throw input_error(self.where() + ": cannot set the headers: " + error_text(s));
  natsMsg* sending = msg;
  s = self.send(&sending);
  if (sending != nullptr) {
    throw input_error(self.where() + ": cannot publish to " + to + ": " + error_text(s));
  }
  owner.release();  // js_PublishMsgAsync took it
  self.published.fetch_add(1, std::memory_order_relaxed);
}

void publisher_core::flush() {
  impl& self = *m_impl;
  const std::int64_t deadline = nats_Now() + self.options.flush_timeout.count();
  // Until nothing is in flight and nothing waits to be sent again: a failure found by an
  // acknowledgement's timeout queues a retry after the in-flight count has fallen.
  for (;;) {
    jsPubOptions o;
    jsPubOptions_Init(&o);
    o.MaxWait = std::max<std::int64_t>(1, deadline - nats_Now());
    const natsStatus s = js_PublishAsyncComplete(self.js, &o);
    std::unique_lock lock(self.mutex);
    if (!self.first_error.empty()) throw input_error(self.first_error);
    if (s == NATS_OK && self.retries.empty() && self.resending == 0) return;
    if (s != NATS_OK && s != NATS_TIMEOUT) {
      throw input_error(self.where() + ": cannot wait for the acknowledgements: " + error_text(s));
    }
    if (nats_Now() >= deadline) {
      throw input_error(self.where() + ": not every message was acknowledged within " +
                        std::to_string(self.options.flush_timeout.count()) + " ms (" +
                        std::to_string(self.retries.size() + self.resending) +
                        " waiting to be sent again)");
    }
    self.changed.wait_for(lock, std::chrono::milliseconds(10), [&] {
      return !self.first_error.empty() || (self.retries.empty() && self.resending == 0);
    });
  }
}

std::uint64_t publisher_core::published() const noexcept {
  return m_impl->published.load(std::memory_order_relaxed);
}

std::uint64_t publisher_core::failed() const noexcept {
  return m_impl->failed.load(std::memory_order_relaxed);
}

std::uint64_t publisher_core::resent() const noexcept {
  return m_impl->resent.load(std::memory_order_relaxed);
}

}  // namespace asp::nats::detail

// Publishing to JetStream: asynchronous publishes with the event time and a message id, at
// most max_in_flight unacknowledged, refusals reported to the loop's run.

#include <asp/detail/remote.hpp>
#include <asp/error.hpp>
#include <asp/nats/sink.hpp>

#include "nats_support.hpp"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <exception>
#include <mutex>
#include <string>
#include <utility>

namespace asp::nats::detail {

struct publisher_core::impl {
  std::shared_ptr<connection_state> conn;
  publish_options options;
  std::shared_ptr<asp::detail::loop_remote> remote;
  jsCtx* js = nullptr;
  std::string subject;  // null-terminated copy of the subject at hand
  std::string id;       // the message id at hand: "<name>-<n>"
  std::atomic<std::uint64_t> published{0};
  std::atomic<std::uint64_t> failed{0};
  std::mutex mutex;
  std::string first_error;  // guarded by mutex

  ~impl() {
    if (js == nullptr) return;
    jsPubOptions o;
    jsPubOptions_Init(&o);
    o.MaxWait = options.flush_timeout.count();
    js_PublishAsyncComplete(js, &o);
    jsCtx_Destroy(js);
  }

  std::string where() const {
    return "asp::nats: publisher '" + options.name + "' at " + conn->servers();
  }

  // On the connection's thread, for each publish that JetStream refused or did not answer.
  static void on_error(jsCtx*, jsPubAckErr* pae, void* closure) {
    auto& self = *static_cast<impl*>(closure);
    self.failed.fetch_add(1, std::memory_order_relaxed);
    const char* id = nullptr;
    std::string text = self.where() + ": the message";
    if (natsMsgHeader_Get(pae->Msg, "Nats-Msg-Id", &id) == NATS_OK) text += std::string(" ") + id;
    text += std::string(" to ") + natsMsg_GetSubject(pae->Msg) + " was not stored: ";
    text += pae->ErrText != nullptr && *pae->ErrText != '\0'
                ? std::string(pae->ErrText)
                : std::string(natsStatus_GetText(pae->Err));
    if (pae->ErrCode != 0)
      text += " [JetStream error " + std::to_string(static_cast<int>(pae->ErrCode)) + "]";
    {
      std::lock_guard lock(self.mutex);
      if (!self.first_error.empty()) return;
      self.first_error = text;
    }
    // The run fails with it, where the loop is now.
    try {
      const std::exception_ptr error = std::make_exception_ptr(input_error(text));
      self.remote->post(
          std::nullopt,
          asp::detail::posted_fn<loop>([error, name = self.options.name](time_point, loop& l) {
            asp::detail::loop_access::fail(l, error, "nats publisher '" + name + "'");
          }));
    } catch (const std::logic_error&) {
      // The loop is gone; flush() still reports it.
    }
  }
};

publisher_core::publisher_core(loop& l, const connection& c, publish_options options)
    : m_impl(std::make_shared<impl>()) {
  impl& self = *m_impl;
  self.conn = c.state();
  self.options = std::move(options);
  self.remote = asp::detail::loop_access::remote(l);
  if (self.options.max_in_flight == 0) {
    throw input_error(self.where() + ": max_in_flight must be positive");
  }
  jsOptions o = self.conn->api_options();
  o.PublishAsync.MaxPending = static_cast<int64_t>(self.options.max_in_flight);
  o.PublishAsync.ErrHandler = &impl::on_error;
  o.PublishAsync.ErrHandlerClosure = m_impl.get();
  const natsStatus s = natsConnection_JetStream(&self.js, self.conn->nc, &o);
  if (s != NATS_OK) throw input_error(self.where() + ": " + error_text(s));
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
  // Beyond max_in_flight the call waits (StallWait) and times out; it is tried again until
  // flush_timeout has passed.
  natsMsg* sending = msg;
  s = js_PublishMsgAsync(self.js, &sending, nullptr);
  if (s == NATS_TIMEOUT) {
    const int64_t deadline = nats_Now() + self.options.flush_timeout.count();
    do {
      s = js_PublishMsgAsync(self.js, &sending, nullptr);
    } while (s == NATS_TIMEOUT && nats_Now() < deadline);
  }
  if (sending != nullptr) {
    throw input_error(self.where() + ": cannot publish to " + to + ": " + error_text(s));
  }
  owner.release();  // js_PublishMsgAsync took it
  self.published.fetch_add(1, std::memory_order_relaxed);
}

void publisher_core::flush() {
  impl& self = *m_impl;
  jsPubOptions o;
  jsPubOptions_Init(&o);
  o.MaxWait = self.options.flush_timeout.count();
  const natsStatus s = js_PublishAsyncComplete(self.js, &o);
  {
    std::lock_guard lock(self.mutex);
    if (!self.first_error.empty()) throw input_error(self.first_error);
  }
  if (s != NATS_OK) {
    throw input_error(self.where() + ": not every message was acknowledged within " +
                      std::to_string(self.options.flush_timeout.count()) + " ms: " + error_text(s));
  }
}

std::uint64_t publisher_core::published() const noexcept {
  return m_impl->published.load(std::memory_order_relaxed);
}

std::uint64_t publisher_core::failed() const noexcept {
  return m_impl->failed.load(std::memory_order_relaxed);
}

}  // namespace asp::nats::detail

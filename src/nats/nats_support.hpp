#pragma once

// What asp::nats's parts share, private to them: the connection's state, the text of a
// nats.c error, a message's headers, and the retry of JetStream API calls while a cluster
// elects a leader.

#include <asp/nats/connection.hpp>

#include <nats/nats.h>

#include "ack_reply.hpp"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace asp::nats::detail {

struct connection_state {
  connect_options options;
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;  // for API calls; each publisher has its own

  connection_state() = default;
  connection_state(const connection_state&) = delete;
  connection_state& operator=(const connection_state&) = delete;
  ~connection_state();

  std::string servers() const;
  jsOptions api_options() const;
};

/// "what failed: the status's text (the library's last error, the JetStream error code)".
std::string error_text(natsStatus s, jsErrCode jerr = static_cast<jsErrCode>(0));

/// Whether a failed JetStream API call may succeed later: a timeout, no responders, a lost
/// connection, a cluster without a leader for the moment.
bool transient(natsStatus s, jsErrCode jerr) noexcept;

/// Calls `call(jerr)` until it succeeds, fails for good, or api_retry_for has passed;
/// returns its last status and sets `jerr`.
template <class Call>
natsStatus with_retry(const connect_options& options, jsErrCode& jerr, Call call) {
  const int64_t deadline = nats_Now() + options.api_retry_for.count();
  for (;;) {
    jerr = static_cast<jsErrCode>(0);
    const natsStatus s = call(jerr);
    if (s == NATS_OK || !transient(s, jerr) || nats_Now() >= deadline) return s;
    nats_Sleep(200);
  }
}

/// `text` as a JSON string, quoted, for the body of a JetStream API request.
std::string json_string(std::string_view text);

/// Reads the event time of a message from its Asp-Time header; "" or why not.
std::string read_time_header(natsMsg* msg, std::int64_t& ns);

/// A message's headers as (name, value) pairs, the values of a name in their order, without
/// the one named `skip` (when given); none when they cannot be read.
std::vector<std::pair<std::string, std::string>> headers_of(natsMsg* msg,
                                                            const char* skip = nullptr);

}  // namespace asp::nats::detail

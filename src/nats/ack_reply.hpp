#pragma once

// The metadata a JetStream delivery carries in its reply subject: text from the server, parsed
// without allocating. Private to asp::nats, and free of nats.c, so that the fuzzer
// (tests/fuzz/net_fuzz.cpp) builds it alone.

#include <charconv>
#include <cstdint>
#include <string_view>
#include <system_error>

namespace asp::nats::detail {

/// Parses "$JS.ACK[.domain.account].stream.consumer.delivered.sseq.dseq.ns.pending[.token]".
/// False when `reply` has not that form (or is null).
bool parse_ack_reply(const char* reply, std::uint64_t& sequence, std::int64_t& stored_ns,
                     std::uint64_t& pending) noexcept;

/// A whole decimal number, and nothing else.
template <class T>
bool parse_decimal(std::string_view text, T& out) noexcept {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size();
}

}  // namespace asp::nats::detail

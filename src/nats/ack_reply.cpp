#include "ack_reply.hpp"

#include <cstring>

namespace asp::nats::detail {

bool parse_ack_reply(const char* reply, std::uint64_t& sequence, std::int64_t& stored_ns,
                     std::uint64_t& pending) noexcept {
  if (reply == nullptr || std::strncmp(reply, "$JS.ACK.", 8) != 0) return false;
  std::string_view tokens[12];
  std::size_t count = 0;
  std::string_view rest(reply + 8);
  while (!rest.empty()) {
    if (count == 12) return false;
    const std::size_t dot = rest.find('.');
    tokens[count++] = rest.substr(0, dot);
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  // Version 1: stream consumer delivered sseq dseq ns pending (7 tokens). Version 2 adds the
  // domain and the account hash before, and a random token after (9 or more).
  std::size_t base = 0;
  if (count == 7) {
    base = 2;
  } else if (count >= 9) {
    base = 4;
  } else {
    return false;
  }
  std::uint64_t delivered_seq = 0;
  return parse_decimal(tokens[base + 1], sequence) &&
         parse_decimal(tokens[base + 2], delivered_seq) &&
         parse_decimal(tokens[base + 3], stored_ns) && parse_decimal(tokens[base + 4], pending);
}

}  // namespace asp::nats::detail

// Fuzzes what parses bytes from the network: the TCP sources' framer (lines and length-prefixed
// frames, fed in chunks of any size) and the JetStream reply-subject parser. A frame is never
// over the maximum, lines hold no newline and come one per newline, length-prefixed frames put
// back together are the bytes consumed, and the only error is asp::input_error.
#include <asp/error.hpp>

#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "../../src/asio/framer.hpp"
#include "../../src/nats/ack_reply.hpp"

namespace {

using asp::asio::framing;
using asp::asio::detail::framer;

void frames(std::string_view bytes, framing kind, std::size_t max, std::uint32_t seed) {
  framer f(kind, max);
  std::size_t lines = 0;
  std::string rebuilt;
  std::size_t fed = 0;
  try {
    while (fed < bytes.size()) {
      seed = seed * 1103515245u + 12345u;
      const std::size_t n = std::min<std::size_t>(bytes.size() - fed, 1 + (seed >> 16) % 97);
      f.append(bytes.data() + fed, n);
      fed += n;
      while (std::optional<std::string> frame = f.pop("fuzz")) {
        if (frame->size() > max) std::abort();
        if (kind == framing::lines) {
          if (frame->find('\n') != std::string::npos) std::abort();
          ++lines;
        } else {
          const auto size = static_cast<std::uint32_t>(frame->size());
          rebuilt += static_cast<char>(size >> 24);
          rebuilt += static_cast<char>((size >> 16) & 0xff);
          rebuilt += static_cast<char>((size >> 8) & 0xff);
          rebuilt += static_cast<char>(size & 0xff);
          rebuilt += *frame;
        }
      }
    }
    if (kind == framing::lines) {
      std::size_t newlines = 0;
      for (const char c : bytes) newlines += c == '\n' ? 1 : 0;
      if (lines != newlines) std::abort();
      const std::string last = f.take_last_line("fuzz");
      if (last.size() > max || last.find('\n') != std::string::npos) std::abort();
    } else if (rebuilt + std::string(bytes.substr(bytes.size() - f.pending())) != bytes) {
      std::abort();
    }
  } catch (const asp::input_error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::size_t max = data[0] < 128 ? 1 + data[0] % 64 : std::size_t{1} << 20;
  frames(bytes, framing::lines, max, data[0]);
  frames(bytes, framing::length_prefixed, max, data[0]);

  const std::string reply(bytes);  // up to its first NUL, as nats.c hands it over
  std::uint64_t sequence = 0;
  std::int64_t stored_ns = 0;
  std::uint64_t pending = 0;
  if (asp::nats::detail::parse_ack_reply(reply.c_str(), sequence, stored_ns, pending) &&
      !reply.starts_with("$JS.ACK.")) {
    std::abort();
  }
  return 0;
}

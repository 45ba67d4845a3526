#pragma once

// What `asp record --from nats://` keeps of each message, in a log stream of schema
// `nats-message` (docs/record-log.md): its subject, its stream sequence, its headers but
// Asp-Time, and its payload, so that `asp play` can filter by subject and publish each message
// again on its own subject with its headers.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace asp::tool {

/// The schema string of a log stream of recorded NATS messages.
inline constexpr std::string_view nats_message_schema = "nats-message";

/// A recorded message; its views are into the payload it was decoded from.
struct nats_record {
  std::string_view subject;
  std::uint64_t sequence = 0;
  std::vector<std::pair<std::string_view, std::string_view>> headers;
  std::string_view data;
};

/// u16 subject size, the subject, u64 sequence, u16 header count, then per header u16 name
/// size, the name, u32 value size, the value; then the payload (little-endian).
std::string encode_nats_record(std::string_view subject, std::uint64_t sequence,
                               const std::vector<std::pair<std::string, std::string>>& headers,
                               std::string_view data);

/// std::nullopt when `payload` is not one (cut short, sizes past its end).
std::optional<nats_record> decode_nats_record(std::string_view payload);

/// Whether `subject` matches the NATS subject filter `filter` (tokens split at '.'; `*` matches
/// one token, a final `>` one or more).
bool subject_matches(std::string_view filter, std::string_view subject);

}  // namespace asp::tool

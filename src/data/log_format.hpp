#pragma once

// The record log's layout (docs/record-log.md), shared by the writer (log.cpp) and the
// readers (log_scan.cpp, log.cpp).

#include <asp/data/log.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace asp::data::detail {

constexpr std::string_view header_magic = "ASPLOG ";
// Version 1: every record as below. Version 2 (what a writer that compresses writes): the
// records inside a compressed chunk carry their time as the difference from the previous
// record's in the chunk (the first: from zero) and no CRC of their own (zero: the chunk's CRC
// covers them), so that zstd finds the times and sees no random bytes. Outside compressed
// chunks the two versions are the same; readers read both.
constexpr int format_version = 1;
constexpr int format_version_compact = 2;
constexpr std::size_t frame_bytes = 8;  // u32 body size, u32 CRC-32C of the body
constexpr std::size_t body_head = 10;   // i64 time, u16 stream
constexpr std::uint32_t max_body = std::uint32_t{1} << 30;

// A compressed chunk is one record of this stream id (no stream has it: there are at most
// 65535 streams, ids 0 to 65534). Its payload: i64 latest time, u32 record count, u32
// uncompressed size, then a zstd frame of the chunk's records, framed as in the file. Its time
// field is the chunk's earliest time.
constexpr std::uint16_t chunk_stream = 0xFFFF;
constexpr std::size_t chunk_head = 16;
// Version 1: the records inside a compressed chunk carry their CRC xor this mask, so that
// where zstd stores them verbatim they never pass for records of the file (when a reader looks
// for the next valid record after a bad one). In version 2 their CRC field is zero.
constexpr std::uint32_t inner_crc_mask = 0xA282EAD8u;

// The time index, version 2: the magic, then the CRC-32C of the log's header (as its `crc:`
// line writes it), which binds the index to its log; then per chunk: u64 offset, u64 end,
// i64 min, i64 max, u32 n, u32 the CRC field of the chunk's first record (binding the entry to
// its chunk), u32 crc of the 40 bytes before it.
constexpr std::string_view index_magic = "ASPIDX2\n";
constexpr std::size_t index_binding_bytes = 4;
constexpr std::size_t index_entry_bytes = 44;
// Version 1 (still read): no binding; entries without the first record's CRC.
constexpr std::string_view index_magic_v1 = "ASPIDX1\n";
constexpr std::size_t index_entry_bytes_v1 = 40;

template <class T>
void put(std::string& out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  out.append(bytes, sizeof(T));
}

template <class T>
T get(const char* p) {
  T value;
  std::memcpy(&value, p, sizeof(T));
  return value;
}

/// A chunk of records, as the time index describes it.
struct chunk {
  std::uint64_t offset = 0;
  std::uint64_t end = 0;
  std::int64_t min_time = 0;
  std::int64_t max_time = 0;
  std::uint32_t records = 0;
  std::uint32_t first_crc = 0;  // the CRC field of its first record
  bool bound = false;           // first_crc is from a version-2 index: a reader checks it
};

/// The id of the stream named `name` among `streams` (its index), if there is one: the one
/// lookup behind log_writer::stream_id and the readers'. They fail differently when there is
/// none: a writer's streams are the program's own (std::invalid_argument), a reader's are the
/// file's (asp::input_error, naming what the file has).
inline std::optional<std::uint16_t> find_stream(const std::vector<log_stream>& streams,
                                                std::string_view name) {
  for (std::size_t i = 0; i < streams.size(); ++i) {
    if (streams[i].name == name) return static_cast<std::uint16_t>(i);
  }
  return std::nullopt;
}

}  // namespace asp::data::detail

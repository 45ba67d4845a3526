#include "log_scan.hpp"

#include "readable_file.hpp"

#include <asp/data/crc32c.hpp>
#include <asp/data/shown.hpp>
#include <asp/error.hpp>

#include <zstd.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <exception>
#include <filesystem>
#include <limits>
#include <utility>

namespace asp::data::detail {

namespace {

// What a block reads, about: at most a megabyte and 8,192 records (two chunks of the writer's
// default size), so that what the reading thread walks (the bytes, a compressed chunk
// decompressed, the list of records) is still in the cache that the scan filled.
constexpr std::size_t piece_bytes = std::size_t{1} << 20;
constexpr std::uint64_t piece_records = 8192;
// Blocks made and not yet taken, at most; a producer that waits for room goes on once half of
// them are taken, so that each wake-up makes several.
constexpr std::size_t blocks_ahead = 8;

constexpr std::int64_t no_earlier = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t unknown = std::numeric_limits<std::int64_t>::min();

enum class check { ok, incomplete, bad };

struct parsed {
  std::uint32_t body = 0;
  std::int64_t time = 0;
  std::uint16_t stream = 0;
};

// The frame at the start of `p` (`n` bytes available): whole, checksummed, of a known stream.
// `mask` xors the CRC; with `crc` false the CRC is not checked (the records of a compressed
// chunk of format version 2, which the chunk's CRC covers).
check frame_at(const char* p, std::size_t n, std::uint32_t mask, std::size_t streams,
               bool chunks_allowed, parsed& out, bool crc = true) {
  if (n < frame_bytes) return check::incomplete;
  const auto body = get<std::uint32_t>(p);
  if (body < body_head || body > max_body) return check::bad;
  if (n < frame_bytes + body) return check::incomplete;
  const auto stream = get<std::uint16_t>(p + frame_bytes + 8);
  if (stream == chunk_stream) {
    if (!chunks_allowed || body < body_head + chunk_head) return check::bad;
  } else if (stream >= streams) {
    return check::bad;
  }
  if (crc && (crc32c(p + frame_bytes, body) ^ mask) != get<std::uint32_t>(p + 4)) {
    return check::bad;
  }
  out = {body, get<std::int64_t>(p + frame_bytes), stream};
  return check::ok;
}

// A window of the file read with pread, for the scans that look at records one at a time
// (rebuilding the index, looking for the next valid record).
struct file_window {
  const log_layout& file;
  std::string buffer{};
  std::uint64_t base = 0;

  // The bytes [offset, offset + n), read if not at hand; fewer at the end of the file.
  std::string_view at(std::uint64_t offset, std::size_t n) {
    if (offset < base || offset + n > base + buffer.size()) {
      const std::uint64_t rest = offset < file.size ? file.size - offset : 0;
      buffer.resize(std::max<std::uint64_t>(n, std::min<std::uint64_t>(piece_bytes, rest)));
      buffer.resize(file.read(offset, buffer.data(), buffer.size()));
      base = offset;
    }
    const std::size_t from = static_cast<std::size_t>(offset - base);
    return std::string_view(buffer).substr(from, std::min(n, buffer.size() - from));
  }

  check record(std::uint64_t offset, parsed& out) {
    std::string_view head = at(offset, frame_bytes + body_head);
    if (head.size() < frame_bytes) return check::incomplete;
    const auto body = get<std::uint32_t>(head.data());
    if (body < body_head || body > max_body) return check::bad;
    if (offset + frame_bytes + body > file.size) return check::incomplete;
    // The stream id before the CRC: most candidates of a search fail there, cheaply.
    if (head.size() >= frame_bytes + body_head) {
      const auto stream = get<std::uint16_t>(head.data() + frame_bytes + 8);
      if (stream != chunk_stream && stream >= file.streams.size()) return check::bad;
    }
    const std::string_view whole = at(offset, frame_bytes + body);
    return frame_at(whole.data(), whole.size(), 0, file.streams.size(), true, out);
  }
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// The file

}  // namespace asp::data::detail

namespace asp::data {

file_kind sniff(std::string_view first_bytes) noexcept {
  using detail::header_magic;
  if (first_bytes.starts_with(header_magic)) return file_kind::record_log;
  // A magic with a byte or three changed, or a header's lines after a magic gone entirely.
  std::size_t same = 0;
  for (std::size_t i = 0; i < header_magic.size() && i < first_bytes.size(); ++i) {
    if (first_bytes[i] == header_magic[i]) ++same;
  }
  const std::string_view head = first_bytes.substr(0, 4096);
  if (same >= 4 || (head.find("\ncreator: ") != std::string_view::npos &&
                    head.find("\ncrc: ") != std::string_view::npos)) {
    return file_kind::damaged_record_log;
  }
  if (first_bytes.find('\0') != std::string_view::npos) return file_kind::binary;
  return file_kind::text;
}

}  // namespace asp::data

namespace asp::data::detail {

log_layout::~log_layout() {
  if (fd >= 0) ::close(fd);
}

std::size_t log_layout::read(std::uint64_t offset, char* into, std::size_t n) const {
  std::size_t got = 0;
  while (got < n) {
    const ssize_t r = ::pread(fd, into + got, n - got, static_cast<off_t>(offset + got));
    if (r < 0) {
      if (errno == EINTR) continue;
      throw input_error(path + ": cannot read at offset " + std::to_string(offset + got) + ": " +
                        std::strerror(errno));
    }
    if (r == 0) break;
    got += static_cast<std::size_t>(r);
  }
  return got;
}

std::optional<std::uint64_t> log_layout::resync(std::uint64_t from) const {
  file_window window{*this};
  parsed ignored;
  for (std::uint64_t p = from; p + frame_bytes + body_head <= size; ++p) {
    // Nothing to read here: the file ends (or shrank) before its size at opening.
    if (window.at(p, frame_bytes + body_head).size() < frame_bytes + body_head) break;
    if (window.record(p, ignored) == check::ok) return p;
  }
  return std::nullopt;
}

std::size_t log_layout::chunk_from(std::uint64_t offset) const {
  const auto it = std::upper_bound(chunks.begin(), chunks.end(), offset,
                                   [](std::uint64_t o, const chunk& c) { return o < c.end; });
  return static_cast<std::size_t>(it - chunks.begin());
}

std::int64_t log_layout::earliest_from(std::uint64_t offset) const {
  if (offset >= size) return no_earlier;
  if (offset >= indexed_end) return unknown;
  return suffix_min[chunk_from(offset)];
}

std::uint64_t log_layout::start_offset(std::optional<std::int64_t> start) const {
  if (!start) return first_record;
  const auto it = std::lower_bound(prefix_max.begin(), prefix_max.end(), *start);
  if (it == prefix_max.end()) return indexed_end;
  return chunks[static_cast<std::size_t>(it - prefix_max.begin())].offset;
}

std::shared_ptr<const log_layout> log_layout::open(std::string path) {
  auto f = std::make_shared<log_layout>();
  log_layout& l = *f;
  l.path = std::move(path);
  const readable_file opened = open_readable(l.path);
  l.fd = opened.fd;
  l.size = opened.size;
  ::posix_fadvise(l.fd, 0, 0, POSIX_FADV_SEQUENTIAL);

  // The header: read until its CRC line.
  std::string b;
  std::size_t want = 4096;
  std::size_t pos = 0;
  auto line = [&]() -> std::optional<std::string_view> {
    for (;;) {
      const std::size_t end = b.find('\n', pos);
      if (end != std::string::npos) {
        const std::string_view text = std::string_view(b).substr(pos, end - pos);
        pos = end + 1;
        return text;
      }
      if (b.size() >= l.size) return std::nullopt;
      want = std::min<std::uint64_t>(l.size, std::max(want * 2, b.size() + 4096));
      b.resize(want);
      b.resize(l.read(0, b.data(), b.size()));
    }
  };
  b.resize(std::min<std::uint64_t>(want, l.size));
  b.resize(l.read(0, b.data(), b.size()));
  if (!std::string_view(b).starts_with(header_magic)) {
    if (sniff(b) == file_kind::damaged_record_log) {
      throw input_error(l.path + ": looks like a damaged record log: it begins with " +
                        shown(std::string_view(b).substr(0, header_magic.size())) + ", not " +
                        shown(header_magic));
    }
    throw input_error(l.path + ": not a record log (it does not start with 'ASPLOG')");
  }
  const auto first = line();
  if (!first) throw input_error(l.path + ": the header is incomplete");
  int version = 0;
  const std::string_view v = first->substr(header_magic.size());
  if (std::from_chars(v.data(), v.data() + v.size(), version).ec != std::errc()) {
    throw input_error(l.path + ": not a record log (no format version)");
  }
  if (version != format_version && version != format_version_compact) {
    throw input_error(l.path + ": format version " + std::to_string(version) +
                      "; this reader reads versions " + std::to_string(format_version) + " and " +
                      std::to_string(format_version_compact));
  }
  l.version = version;
  std::uint32_t header_crc = 0;
  for (;;) {
    const std::size_t line_start = pos;
    const auto text = line();
    if (!text) throw input_error(l.path + ": the header is incomplete");
    if (text->starts_with("crc: ")) {
      char expected[16];
      header_crc = crc32c(std::string_view(b).substr(0, line_start));
      std::snprintf(expected, sizeof expected, "%08x", header_crc);
      if (text->substr(5) != expected) {
        throw input_error(l.path + ": the header is corrupt (its CRC does not match)");
      }
      break;
    }
    if (text->starts_with("creator: ")) {
      l.creator = std::string(text->substr(9));
    } else if (text->starts_with("stream: ")) {
      l.streams.push_back({std::string(text->substr(8)), {}});
    } else if (text->starts_with("schema: ") && !l.streams.empty()) {
      l.streams.back().schema = std::string(text->substr(8));
    }
    // Other lines are for later versions' readers.
  }
  l.first_record = pos;

  // The index: its entries while each is whole, checksummed and follows the previous one.
  std::uint64_t at = l.first_record;
  bool had_index = false;
  bool stale = false;
  const std::string index_path = l.path + ".idx";
  if (const int ifd = ::open(index_path.c_str(), O_RDONLY | O_CLOEXEC); ifd >= 0) {
    std::string ib;
    char piece[65536];
    for (;;) {
      const ssize_t n = ::read(ifd, piece, sizeof piece);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      ib.append(piece, static_cast<std::size_t>(n));
    }
    ::close(ifd);
    const std::string_view index(ib);
    const bool v2 =
        index.starts_with(index_magic) && index.size() >= index_magic.size() + index_binding_bytes;
    if (v2 || index.starts_with(index_magic_v1)) {
      had_index = true;
      const std::size_t entry_bytes = v2 ? index_entry_bytes : index_entry_bytes_v1;
      std::size_t e = index_magic.size();
      if (v2) {
        stale = get<std::uint32_t>(ib.data() + e) != header_crc;  // another log's header
        e += index_binding_bytes;
      }
      for (; !stale && e + entry_bytes <= ib.size(); e += entry_bytes) {
        const char* p = ib.data() + e;
        if (crc32c(p, entry_bytes - 4) != get<std::uint32_t>(p + entry_bytes - 4)) break;
        chunk c{get<std::uint64_t>(p), get<std::uint64_t>(p + 8), get<std::int64_t>(p + 16),
                get<std::int64_t>(p + 24), get<std::uint32_t>(p + 32)};
        if (v2) {
          c.first_crc = get<std::uint32_t>(p + 36);
          c.bound = true;
        }
        if (c.offset != at || c.end <= c.offset || c.end > l.size || c.min_time > c.max_time) {
          break;
        }
        l.chunks.push_back(c);
        at = c.end;
      }
      // An index beside another log of the same layout (a log copied over this one, its index
      // left): its first and last chunks must begin with their own records. The chunks between
      // are checked as they are read.
      if (!stale && !l.chunks.empty()) {
        // A bound entry needs its record's 8-byte frame only (its CRC field); a version-1
        // entry, the record itself, whose time must lie in the chunk's range.
        auto begins_its_chunk = [&](const chunk& c) {
          if (c.bound) {
            char frame[frame_bytes];
            return l.read(c.offset, frame, frame_bytes) == frame_bytes &&
                   get<std::uint32_t>(frame + 4) == c.first_crc;
          }
          file_window window{l};
          parsed r;
          return window.record(c.offset, r) == check::ok && r.time >= c.min_time &&
                 r.time <= c.max_time;
        };
        stale = !begins_its_chunk(l.chunks.front()) || !begins_its_chunk(l.chunks.back());
      }
      if (stale) {
        l.chunks.clear();
        at = l.first_record;
      }
    }
  }
  // The rest, by scanning: chunks of the writer's default size, up to the first record that
  // is not whole and valid.
  bool scanned = false;
  chunk c{};
  parsed r;
  file_window window{l};
  while (window.record(at, r) == check::ok) {
    std::int64_t latest = r.time;
    std::uint32_t count = 1;
    if (r.stream == chunk_stream) {
      const std::string_view payload = window.at(at + frame_bytes + body_head, chunk_head);
      latest = std::max(r.time, get<std::int64_t>(payload.data()));
      count = get<std::uint32_t>(payload.data() + 8);
    }
    if (c.records == 0) {
      c.offset = at;
      c.min_time = r.time;
      c.max_time = latest;
    }
    c.min_time = std::min(c.min_time, r.time);
    c.max_time = std::max(c.max_time, latest);
    c.records += count;
    at += frame_bytes + r.body;
    c.end = at;
    scanned = true;
    if (c.records >= default_chunk_records) {
      l.chunks.push_back(c);
      c = chunk{};
    }
  }
  if (c.records > 0) l.chunks.push_back(c);
  l.indexed_end = at;
  l.index = stale        ? index_state::stale
            : !had_index ? index_state::missing
            : scanned    ? index_state::partial
                         : index_state::complete;
  std::int64_t running = std::numeric_limits<std::int64_t>::min();
  for (const chunk& k : l.chunks) {
    running = std::max(running, k.max_time);
    l.prefix_max.push_back(running);
  }
  l.suffix_min.assign(l.chunks.size() + 1, l.indexed_end >= l.size ? no_earlier : unknown);
  for (std::size_t k = l.chunks.size(); k-- > 0;) {
    l.suffix_min[k] = std::min(l.suffix_min[k + 1], l.chunks[k].min_time);
  }
  return f;
}

// ---------------------------------------------------------------------------------------------
// Making blocks

struct block_maker::state {
  std::shared_ptr<const log_layout> file;
  file_plan plan;
  std::uint64_t pos = 0;
  bool done = false;
  std::unique_ptr<ZSTD_DCtx, decltype(&ZSTD_freeDCtx)> dctx{nullptr, &ZSTD_freeDCtx};

  bool selected(std::uint16_t stream, std::int64_t t) const {
    return stream < plan.streams.size() && plan.streams[stream] && !(plan.start && t < *plan.start);
  }
  bool already_yielded(std::uint64_t offset, std::uint32_t inner) const {
    return plan.skip_through && (offset < plan.after_offset ||
                                 (offset == plan.after_offset && inner <= plan.after_inner));
  }

  void add_problem(block& b, problem p, std::uint64_t offset) {
    rec& r = b.add();
    r = rec{};
    r.stream = problem_stream;
    r.offset = offset;
    r.file = plan.file;
    r.size = static_cast<std::uint32_t>(b.problems.size());
    b.problems.push_back(std::move(p));
  }

  // The index promised that no record of a chunk is earlier than its earliest time: the
  // merge relies on it, so a record that breaks the promise stops the scan. The chunk at hand
  // is cached: records come in file order.
  std::uint64_t chunk_begin = 0;
  std::uint64_t chunk_end = 0;
  std::int64_t chunk_min = std::numeric_limits<std::int64_t>::min();

  bool index_holds(block& b, std::uint64_t offset, std::int64_t t) {
    if (offset < chunk_end && offset >= chunk_begin && t >= chunk_min) return true;  // most
    return index_holds_slow(b, offset, t);
  }

  [[gnu::noinline]] bool index_holds_slow(block& b, std::uint64_t offset, std::int64_t t) {
    if (offset >= chunk_end || offset < chunk_begin) find_chunk(offset);
    if (t >= chunk_min) return true;
    add_problem(
        b,
        {problem::kind::fatal, offset, 0,
         file->path + ": its time index is wrong: the chunk at offset " +
             std::to_string(chunk_begin) + " starts at " +
             asp::to_string(time_point{duration{chunk_min}}) + ", but its record at offset " +
             std::to_string(offset) + " is at " + asp::to_string(time_point{duration{t}})},
        offset);
    done = true;
    return false;
  }

  void find_chunk(std::uint64_t offset) {
    const std::vector<detail::chunk>& chunks = file->chunks;
    const std::size_t k = file->chunk_from(offset);
    if (k == chunks.size() || chunks[k].offset > offset) {
      // Not in the index (past its end): nothing promised. Until the next chunk, if any.
      chunk_begin = offset;
      chunk_end = k == chunks.size() ? std::numeric_limits<std::uint64_t>::max() : chunks[k].offset;
      chunk_min = std::numeric_limits<std::int64_t>::min();
      return;
    }
    chunk_begin = chunks[k].offset;
    chunk_end = chunks[k].end;
    chunk_min = chunks[k].min_time;
  }

  // A version-2 index binds each chunk to its first record: the next bound chunk's offset,
  // whose record's CRC is compared with the entry's as the scan passes it.
  std::size_t check_chunk = 0;
  std::uint64_t check_offset = std::numeric_limits<std::uint64_t>::max();

  void aim_check(std::size_t k) {
    const std::vector<detail::chunk>& chunks = file->chunks;
    check_chunk = k;
    check_offset = k < chunks.size() && chunks[k].bound ? chunks[k].offset
                                                        : std::numeric_limits<std::uint64_t>::max();
  }

  [[gnu::noinline]] bool chunk_is_bound(block& b, const char* frame, std::uint64_t offset) {
    if (get<std::uint32_t>(frame + 4) == file->chunks[check_chunk].first_crc) {
      aim_check(check_chunk + 1);
      return true;
    }
    add_problem(b,
                {problem::kind::fatal, offset, 0,
                 file->path + ": its time index " + file->path +
                     ".idx belongs to another log: its chunk at offset " + std::to_string(offset) +
                     " begins with another record (delete the index: it is rebuilt by scanning)"},
                offset);
    done = true;
    return false;
  }

  void add_record(block& b, const parsed& r, const char* payload, std::uint64_t offset,
                  std::uint32_t inner) {
    rec& out = b.add();
    out.time = r.time;
    out.payload = payload;
    out.offset = offset;
    out.size = r.body - static_cast<std::uint32_t>(body_head);
    out.inner = inner;
    out.stream = plan.ids[r.stream];
    out.file = plan.file;
  }

  // The records of the compressed chunk at `offset` whose frame is at `p`.
  bool add_chunk(block& b, const char* p, const parsed& r, std::uint64_t offset) {
    const char* payload = p + frame_bytes + body_head;
    if (plan.start && get<std::int64_t>(payload) < *plan.start) return true;  // wholly before
    if (plan.skip_through && offset < plan.after_offset) return true;
    const auto raw = get<std::uint32_t>(payload + 12);
    const char* frame = payload + chunk_head;
    const std::size_t frame_size = r.body - body_head - chunk_head;
    // The size the chunk claims is checked against the zstd frame's own before anything is
    // allocated for it.
    const unsigned long long content = ZSTD_getFrameContentSize(frame, frame_size);
    if (content == ZSTD_CONTENTSIZE_ERROR ||
        (content != ZSTD_CONTENTSIZE_UNKNOWN && content != raw) || raw > max_body) {
      add_problem(
          b,
          {problem::kind::corrupt, offset, 0,
           "cannot decompress its chunk: it claims " + std::to_string(raw) + " bytes, its frame " +
               (content == ZSTD_CONTENTSIZE_ERROR ? std::string("is not zstd")
                                                  : std::to_string(content) + " bytes")},
          offset);
      return true;
    }
    if (b.inflated.size() <= b.inflated_used) b.inflated.emplace_back();
    std::string& out = b.inflated[b.inflated_used++];
    out.resize(raw);
    if (!dctx) dctx.reset(ZSTD_createDCtx());
    const std::size_t n =
        ZSTD_decompressDCtx(dctx.get(), out.data(), out.size(), frame, frame_size);
    if (ZSTD_isError(n) != 0 || n != raw) {
      const std::string why = ZSTD_isError(n) != 0 ? std::string(ZSTD_getErrorName(n))
                                                   : "it holds " + std::to_string(n) +
                                                         " bytes, not " + std::to_string(raw);
      add_problem(b, {problem::kind::corrupt, offset, 0, "cannot decompress its chunk: " + why},
                  offset);
      return true;
    }
    const bool compact = file->version == format_version_compact;
    std::uint64_t previous = 0;  // version 2: times are differences
    for (std::size_t q = 0; q < out.size();) {
      parsed inner;
      if (frame_at(out.data() + q, out.size() - q, compact ? 0 : inner_crc_mask,
                   file->streams.size(), false, inner, !compact) != check::ok) {
        add_problem(b,
                    {problem::kind::corrupt, offset, 0, "a bad record inside its compressed chunk"},
                    offset);
        break;
      }
      if (compact) {
        previous += static_cast<std::uint64_t>(inner.time);
        inner.time = static_cast<std::int64_t>(previous);
      }
      const auto place = static_cast<std::uint32_t>(q + 1);
      if (selected(inner.stream, inner.time) && !already_yielded(offset, place)) {
        if (!index_holds(b, offset, inner.time)) return false;
        add_record(b, inner, out.data() + q + frame_bytes + body_head, offset, place);
      }
      q += frame_bytes + inner.body;
    }
    return true;
  }

  // A record at `offset` that is bad or cut short: where the scan goes on, or a torn tail.
  void bad_record(block& b, std::uint64_t offset, check c) {
    const std::optional<std::uint64_t> next_valid = file->resync(offset + 1);
    if (!next_valid) {
      add_problem(b, {problem::kind::torn, offset, file->size - offset, {}}, offset);
      done = true;
      return;
    }
    add_problem(b,
                {problem::kind::corrupt, offset, 0,
                 std::string(c == check::bad ? "bad size or CRC" : "cut short") +
                     "; the next valid record is at offset " + std::to_string(*next_valid)},
                offset);
    pos = *next_valid;
  }

  void make(block& b) {
    b.count = 0;
    b.problems.clear();
    b.inflated_used = 0;
    b.last = false;
    if (!done && pos >= file->size) done = true;
    if (done) {
      b.last = true;
      return;
    }
    // The piece: whole chunks of the index (see piece_bytes), or a megabyte past its end.
    const std::vector<detail::chunk>& chunks = file->chunks;
    std::uint64_t end = 0;
    if (pos < file->indexed_end) {
      std::size_t k = file->chunk_from(pos);
      end = chunks[k].end;
      std::uint64_t records = chunks[k].records;
      while (++k < chunks.size() && end - pos < piece_bytes && records < piece_records) {
        end = chunks[k].end;
        records += chunks[k].records;
      }
    } else {
      end = std::min<std::uint64_t>(file->size, pos + piece_bytes);
    }
    const std::uint64_t base = pos;
    {
      std::size_t k = file->chunk_from(pos);
      if (k < chunks.size() && chunks[k].offset < pos) ++k;
      aim_check(k);
    }
    b.bytes.resize(static_cast<std::size_t>(end - base));
    b.bytes.resize(file->read(base, b.bytes.data(), b.bytes.size()));
    std::size_t p = 0;
    for (;;) {
      const std::uint64_t offset = base + p;
      if (offset >= file->size) {
        pos = offset;
        done = true;
        break;
      }
      std::size_t have = b.bytes.size() - p;
      if (have < frame_bytes && offset + frame_bytes <= file->size && p > 0) {
        pos = offset;  // the next piece starts with this record
        break;
      }
      parsed r;
      check c = check::incomplete;
      if (have >= frame_bytes) {
        const auto body = get<std::uint32_t>(b.bytes.data() + p);
        const std::uint64_t whole = frame_bytes + std::uint64_t{body};
        if (body >= body_head && body <= max_body && have < whole && offset + whole <= file->size) {
          if (p > 0) {
            pos = offset;  // the next piece starts with this record
            break;
          }
          // A record longer than a piece: read it whole.
          b.bytes.resize(static_cast<std::size_t>(whole));
          b.bytes.resize(file->read(base, b.bytes.data(), b.bytes.size()));
          have = b.bytes.size();
        }
        c = frame_at(b.bytes.data() + p, have, 0, file->streams.size(), true, r);
      }
      if (c != check::ok) {
        bad_record(b, offset, c);
        break;
      }
      const char* frame = b.bytes.data() + p;
      if (offset == check_offset && !chunk_is_bound(b, frame, offset)) break;
      if (r.stream == chunk_stream) {
        if (!add_chunk(b, frame, r, offset)) break;
      } else if (selected(r.stream, r.time) && !already_yielded(offset, 0)) {
        if (!index_holds(b, offset, r.time)) break;
        add_record(b, r, frame + frame_bytes + body_head, offset, 0);
      }
      p += frame_bytes + r.body;
    }
    if (done) b.last = true;
    // Every record's bound: the earliest of what follows it in this block and after it.
    std::int64_t running = std::min(done ? no_earlier : file->earliest_from(pos), plan.later_min);
    for (std::size_t i = b.count; i-- > 0;) {
      rec& r = b.recs[i];
      r.rest_min = running;
      if (r.stream != problem_stream) running = std::min(running, r.time);
    }
  }
};

block_maker::block_maker(std::shared_ptr<const log_layout> layout, file_plan plan)
    : m_state(std::make_unique<state>()) {
  m_state->file = std::move(layout);
  m_state->plan = std::move(plan);
  m_state->pos = m_state->plan.from;
}
block_maker::block_maker(block_maker&&) noexcept = default;
block_maker::~block_maker() = default;

void block_maker::make(block& b) {
  m_state->make(b);
}

// ---------------------------------------------------------------------------------------------
// Blocks, ahead or on demand

block_stream::block_stream(std::shared_ptr<const log_layout> layout, file_plan plan)
    : m_maker(std::move(layout), plan), m_threaded(plan.read_ahead) {
  if (m_threaded) m_thread = std::thread([this] { produce(); });
}

block_stream::~block_stream() {
  if (m_thread.joinable()) {
    {
      std::lock_guard lock(m_mutex);
      m_stop = true;
    }
    m_room_cv.notify_all();
    m_thread.join();
  }
}

void block_stream::produce() {
  for (;;) {
    block* b = nullptr;
    {
      std::unique_lock lock(m_mutex);
      if (!m_stop && m_ready.size() >= blocks_ahead) {
        m_producer_waits = true;
        m_room_cv.wait(lock, [&] { return m_stop || m_ready.size() <= blocks_ahead / 2; });
        m_producer_waits = false;
      }
      if (m_stop) return;
      b = take_free();
    }
    try {
      m_maker.make(*b);
    } catch (const std::exception& e) {
      b->count = 0;
      b->problems.clear();
      b->problems.push_back({problem::kind::fatal, 0, 0, e.what()});
      rec& r = b->add();
      r = rec{};
      r.stream = problem_stream;
      b->last = true;
    }
    const bool last = b->last;
    bool wake = false;
    {
      std::lock_guard lock(m_mutex);
      m_ready.push_back(b);
      wake = m_consumer_waits;
    }
    if (wake) m_ready_cv.notify_one();
    if (last) return;
  }
}

block* block_stream::next() {
  if (m_ended) return nullptr;
  block* b = nullptr;
  if (m_threaded) {
    bool wake = false;
    {
      std::unique_lock lock(m_mutex);
      if (m_ready.empty()) {
        m_consumer_waits = true;
        m_ready_cv.wait(lock, [&] { return !m_ready.empty(); });
        m_consumer_waits = false;
      }
      b = m_ready.front();
      m_ready.pop_front();
      wake = m_producer_waits && m_ready.size() <= blocks_ahead / 2;
    }
    if (wake) m_room_cv.notify_one();
  } else {
    b = take_free();
    m_maker.make(*b);
  }
  if (b->last) m_ended = true;
  b->refs = 1;
  ++m_out;
  return b;
}

block* block_stream::take_free() {
  if (!m_free.empty()) {
    block* b = m_free.back();
    m_free.pop_back();
    return b;
  }
  m_all.push_back(std::make_unique<block>());
  m_all.back()->owner = this;
  return m_all.back().get();
}

void block_stream::release(block* b) {
  if (--b->refs != 0) return;
  --m_out;
  if (m_threaded) {
    std::lock_guard lock(m_mutex);
    m_free.push_back(b);
  } else {
    m_free.push_back(b);
  }
}

// ---------------------------------------------------------------------------------------------
// Sets of files

namespace {

std::vector<std::string> logs_of(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_directory(path, ec)) return {path};
  std::vector<std::string> logs;
  for (const auto& entry : std::filesystem::directory_iterator(path, ec)) {
    const std::filesystem::path& p = entry.path();
    if (p.extension() == ".asplog" && entry.is_regular_file(ec)) logs.push_back(p.string());
  }
  if (ec) throw input_error(path + ": cannot list the directory: " + ec.message());
  if (logs.empty()) throw input_error(path + ": no record logs (*.asplog) in the directory");
  std::sort(logs.begin(), logs.end());
  return logs;
}

}  // namespace

std::shared_ptr<const log_set> log_set::open(std::vector<std::string> paths) {
  auto set = std::make_shared<log_set>();
  std::vector<std::string> all;
  for (std::string& p : paths) {
    std::vector<std::string> logs = logs_of(p);
    all.insert(all.end(), std::make_move_iterator(logs.begin()),
               std::make_move_iterator(logs.end()));
  }
  if (all.empty()) throw input_error("asp::data: no record logs to read");
  set->name = paths.front();  // not empty: all is not
  if (all.size() > std::numeric_limits<std::uint32_t>::max()) {
    throw input_error(set->name + ": too many files");
  }
  std::vector<std::string> owner;  // for each of the set's streams, the file it came from
  for (std::string& path : all) {
    std::shared_ptr<const log_layout> layout = log_layout::open(path);
    member m;
    m.path = std::move(path);
    for (const log_stream& s : layout->streams) {
      const auto it = std::find_if(set->streams.begin(), set->streams.end(),
                                   [&](const log_stream& known) { return known.name == s.name; });
      if (it == set->streams.end()) {
        if (set->streams.size() >= chunk_stream) throw input_error(m.path + ": too many streams");
        m.ids.push_back(static_cast<std::uint16_t>(set->streams.size()));
        set->streams.push_back(s);
        owner.push_back(m.path);
        continue;
      }
      const auto id = static_cast<std::size_t>(it - set->streams.begin());
      if (it->schema != s.schema) {
        throw input_error(m.path + ": stream " + shown(s.name) + " has the schema " +
                          shown(s.schema, 200) + ", but in " + owner[id] + " it has " +
                          shown(it->schema, 200));
      }
      if (std::find(m.ids.begin(), m.ids.end(), id) != m.ids.end()) {
        throw input_error(m.path + ": two streams are named " + shown(s.name));
      }
      m.ids.push_back(static_cast<std::uint16_t>(id));
    }
    if (set->files.empty()) set->creator = layout->creator;
    const bool whole = layout->indexed_end >= layout->size;
    m.empty = layout->chunks.empty() && whole;
    m.min_time = layout->suffix_min.front();
    m.max_time = whole && !layout->prefix_max.empty() ? layout->prefix_max.back() : no_earlier;
    m.index = layout->index;
    m.chunks = layout->chunks.size();
    // Kept open when opening it again would cost a scan, or when it is the only one.
    if (layout->index != index_state::complete || all.size() == 1) m.kept = layout;
    set->files.push_back(std::move(m));
  }
  set->from_min.assign(set->files.size() + 1, no_earlier);
  for (std::size_t k = set->files.size(); k-- > 0;) {
    const member& m = set->files[k];
    set->from_min[k] = std::min(set->from_min[k + 1], m.empty ? no_earlier : m.min_time);
  }
  return set;
}

std::shared_ptr<const log_layout> log_set::layout(std::size_t k) const {
  const member& m = files[k];
  if (m.kept) return m.kept;
  std::shared_ptr<const log_layout> l = m.open.lock();
  if (!l) {
    l = log_layout::open(m.path);
    if (l->streams.size() != m.ids.size()) {
      throw input_error(m.path + ": the file changed while it was read (its streams)");
    }
    m.open = l;
  }
  return l;
}

std::uint16_t log_set::stream_id(std::string_view stream) const {
  if (const std::optional<std::uint16_t> id = detail::find_stream(streams, stream)) return *id;
  std::vector<std::string> all;
  for (const log_stream& s : streams) all.push_back(s.name);
  const std::string names = shown_list(all);
  throw input_error(name + ": no stream " + shown(stream) + " (" +
                    (files.size() == 1 ? "the file has " : "the dataset has ") +
                    (names.empty() ? std::string("none") : names) + ")");
}

std::optional<std::pair<std::int64_t, std::int64_t>> log_set::time_range() const {
  std::optional<std::pair<std::int64_t, std::int64_t>> range;
  for (const member& m : files) {
    if (m.empty) continue;
    if (m.min_time == unknown || m.max_time == no_earlier) return std::nullopt;
    if (!range) range.emplace(m.min_time, m.max_time);
    range->first = std::min(range->first, m.min_time);
    range->second = std::max(range->second, m.max_time);
  }
  return range;
}

// ---------------------------------------------------------------------------------------------
// Scans of a set

record_scan::record_scan(std::shared_ptr<const log_set> set, scan_plan plan)
    : m_set(std::move(set)), m_plan(std::move(plan)), m_next_file(m_plan.file) {}

record_scan::~record_scan() {
  if (m_block != nullptr) release(m_block);
}

bool record_scan::open_file() {
  // Files whose blocks are all free go.
  std::erase_if(m_over, [](const std::unique_ptr<block_stream>& s) { return s->out() == 0; });
  const log_set& set = *m_set;
  for (; m_next_file < set.files.size(); ++m_next_file) {
    const std::uint32_t k = m_next_file;
    const log_set::member& m = set.files[k];
    // Every record from here on comes after the end: nothing to read (each stream ends at
    // its first record after the end).
    if (m_plan.end && set.from_min[k] > *m_plan.end) break;
    if (m_plan.start && m.max_time < *m_plan.start) continue;
    if (m.empty) continue;
    std::shared_ptr<const log_layout> layout = set.layout(k);
    file_plan p;
    p.ids = m.ids;
    p.streams.resize(m.ids.size());
    for (std::size_t i = 0; i < m.ids.size(); ++i) p.streams[i] = m_plan.streams[m.ids[i]];
    p.start = m_plan.start;
    p.from = layout->start_offset(m_plan.start);
    if (k == m_plan.file && m_plan.skip_through) {
      p.from = std::max(p.from, m_plan.after_offset);
      p.skip_through = true;
      p.after_offset = m_plan.after_offset;
      p.after_inner = m_plan.after_inner;
    }
    p.read_ahead = m_plan.read_ahead;
    p.file = k;
    p.later_min = set.from_min[k + 1];
    m_blocks = std::make_unique<block_stream>(std::move(layout), std::move(p));
    ++m_next_file;
    return true;
  }
  m_next_file = static_cast<std::uint32_t>(set.files.size());
  return false;
}

void record_scan::end_file() {
  if (!m_blocks) return;
  if (m_blocks->out() > 0) m_over.push_back(std::move(m_blocks));
  m_blocks.reset();
  if (m_next_file >= m_set->files.size()) m_ended = true;
}

}  // namespace asp::data::detail

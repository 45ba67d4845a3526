#include <asp/data/log.hpp>

#include <asp/data/crc32c.hpp>

#include <zstd.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <limits>
#include <set>
#include <stdexcept>
#include <system_error>
#include <tuple>
#include <utility>

namespace asp::data {

namespace {

// The file's layout (docs/record-log.md).
constexpr std::string_view header_magic = "ASPLOG ";
constexpr int format_version = 1;
constexpr std::size_t frame_bytes = 8;  // u32 body size, u32 CRC-32C of the body
constexpr std::size_t body_head = 10;   // i64 time, u16 stream
constexpr std::uint32_t max_body = std::uint32_t{1} << 30;

// A compressed chunk is one record of this stream id (no stream has it: there are at most
// 65535 streams, ids 0 to 65534). Its payload: i64 latest time, u32 record count, u32
// uncompressed size, then a zstd frame of the chunk's records, framed as in the file. Its time
// field is the chunk's earliest time.
constexpr std::uint16_t chunk_stream = 0xFFFF;
constexpr std::size_t chunk_head = 16;
// The records inside a compressed chunk carry their CRC xor this mask, so that where zstd
// stores them verbatim they never pass for records of the file (when a reader looks for the
// next valid record after a bad one).
constexpr std::uint32_t inner_crc_mask = 0xA282EAD8u;

constexpr std::string_view index_magic = "ASPIDX1\n";
constexpr std::size_t index_entry_bytes =
    40;  // u64 offset, u64 end, i64 min, i64 max, u32 n, u32 crc

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

void check_text(std::string_view what, std::string_view text) {
  if (text.find('\n') != std::string_view::npos || text.find('\r') != std::string_view::npos) {
    throw std::invalid_argument("asp::data::log_writer: " + std::string(what) +
                                " must be one line: '" + std::string(text) + "'");
  }
}

std::string header_text(const std::string& creator, const std::vector<log_stream>& streams,
                        int zstd_level) {
  std::string text = std::string(header_magic) + std::to_string(format_version) + "\n";
  text += "creator: " + creator + "\n";
  if (zstd_level > 0) text += "compression: zstd\n";
  for (const log_stream& s : streams) {
    text += "stream: " + s.name + "\n";
    text += "schema: " + s.schema + "\n";
  }
  char crc[16];
  std::snprintf(crc, sizeof crc, "%08x", crc32c(text));
  text += "crc: " + std::string(crc) + "\n";
  return text;
}

struct chunk {
  std::uint64_t offset = 0;
  std::uint64_t end = 0;
  std::int64_t min_time = 0;
  std::int64_t max_time = 0;
  std::uint32_t records = 0;
};

std::string index_entry(const chunk& c) {
  std::string out;
  put(out, c.offset);
  put(out, c.end);
  put(out, c.min_time);
  put(out, c.max_time);
  put(out, c.records);
  put(out, crc32c(out));
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Writing

struct log_writer::state {
  std::string path;
  std::vector<log_stream> streams;
  log_writer_options options;
  int fd = -1;
  int index_fd = -1;
  std::string buffer;
  std::string pending;  // a compressed chunk's records, until it ends
  std::string compressed;
  std::unique_ptr<ZSTD_CCtx, decltype(&ZSTD_freeCCtx)> zstd{nullptr, &ZSTD_freeCCtx};
  std::uint64_t size = 0;  // bytes of the file, buffered ones included
  chunk current{};
  std::uint64_t written = 0;
  std::uint64_t acknowledged = 0;
  std::uint64_t since_sync = 0;
  std::chrono::steady_clock::time_point last_sync = std::chrono::steady_clock::now();
  bool failed = false;
  bool closed = false;

  [[noreturn]] void fail(const std::string& doing, int error) {
    failed = true;
    throw std::system_error(error, std::generic_category(),
                            "cannot " + doing + " " + path + " (" + std::to_string(acknowledged) +
                                " records acknowledged)");
  }

  void write_all(int to, std::string_view bytes, const char* doing) {
    while (!bytes.empty()) {
      const ssize_t n = ::write(to, bytes.data(), bytes.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        fail(doing, errno);
      }
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  void flush_buffer() {
    if (buffer.empty()) return;
    // Whatever happens, these bytes are no longer ours to retry.
    const std::string bytes = std::exchange(buffer, {});
    write_all(fd, bytes, "write");
  }

  // A compressed chunk becomes one record of the chunk stream.
  void seal_chunk() {
    compressed.resize(ZSTD_compressBound(pending.size()));
    const std::size_t n = ZSTD_compressCCtx(zstd.get(), compressed.data(), compressed.size(),
                                            pending.data(), pending.size(), options.zstd_level);
    if (ZSTD_isError(n) != 0) {
      failed = true;
      throw std::runtime_error("cannot compress a chunk of " + path + ": " + ZSTD_getErrorName(n));
    }
    const auto body = static_cast<std::uint32_t>(body_head + chunk_head + n);
    const std::size_t at = buffer.size();
    put(buffer, body);
    put(buffer, std::uint32_t{0});
    put(buffer, current.min_time);
    put(buffer, chunk_stream);
    put(buffer, current.max_time);
    put(buffer, current.records);
    put(buffer, static_cast<std::uint32_t>(pending.size()));
    buffer.append(compressed.data(), n);
    const std::uint32_t crc = crc32c(buffer.data() + at + frame_bytes, body);
    std::memcpy(buffer.data() + at + 4, &crc, 4);
    size += frame_bytes + body;
    pending.clear();
  }

  void end_chunk() {
    if (options.zstd_level > 0 && current.records > 0) seal_chunk();
    flush_buffer();
    if (current.records == 0) return;
    current.end = size;
    write_all(index_fd, index_entry(current), "write the index of");
    current = chunk{};
  }

  void sync() {
    end_chunk();
    if (::fdatasync(fd) != 0) fail("sync", errno);
    acknowledged = written;
    since_sync = 0;
    last_sync = std::chrono::steady_clock::now();
  }

  void check_usable() const {
    if (closed) throw std::logic_error("asp::data::log_writer: " + path + " is closed");
    if (failed) throw std::logic_error("asp::data::log_writer: " + path + " failed before");
  }
};

log_writer::log_writer(std::string path, std::vector<log_stream> streams,
                       log_writer_options options)
    : m_state(std::make_unique<state>()) {
  state& s = *m_state;
  s.path = std::move(path);
  s.streams = std::move(streams);
  s.options = std::move(options);
  if (s.streams.size() > std::numeric_limits<std::uint16_t>::max()) {
    throw std::invalid_argument("asp::data::log_writer: at most 65535 streams");
  }
  check_text("the creator", s.options.creator);
  for (const log_stream& stream : s.streams) {
    check_text("a stream's name", stream.name);
    check_text("a stream's schema", stream.schema);
    if (stream.name.empty())
      throw std::invalid_argument("asp::data::log_writer: a stream without a name");
  }
  if (s.options.chunk_records == 0) s.options.chunk_records = 1;
  if (s.options.zstd_level < 0 || s.options.zstd_level > ZSTD_maxCLevel()) {
    throw std::invalid_argument("asp::data::log_writer: the zstd level must be 0 to " +
                                std::to_string(ZSTD_maxCLevel()));
  }
  if (s.options.zstd_level > 0) s.zstd.reset(ZSTD_createCCtx());
  const int create = O_WRONLY | O_CREAT | O_CLOEXEC | (s.options.overwrite ? O_TRUNC : O_EXCL);
  s.fd = ::open(s.path.c_str(), create, 0644);
  if (s.fd < 0) s.fail("create", errno);
  const std::string index_path = s.path + ".idx";
  s.index_fd = ::open(index_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (s.index_fd < 0) {
    const int error = errno;
    ::close(s.fd);
    s.fd = -1;
    s.fail("create the index of", error);
  }
  const std::string header = header_text(s.options.creator, s.streams, s.options.zstd_level);
  s.write_all(s.fd, header, "write");
  s.write_all(s.index_fd, index_magic, "write the index of");
  s.size = header.size();
  // The header and the file's name are durable before any record is acknowledged.
  if (::fdatasync(s.fd) != 0) s.fail("sync", errno);
  const std::filesystem::path parent = std::filesystem::absolute(s.path).parent_path();
  const int dir = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
}

log_writer::log_writer(log_writer&&) noexcept = default;
log_writer& log_writer::operator=(log_writer&& other) noexcept {
  if (this != &other) {
    try {
      close();
    } catch (...) {
    }
    m_state = std::move(other.m_state);
  }
  return *this;
}

log_writer::~log_writer() {
  try {
    close();
  } catch (...) {
    // A destructor cannot report; close() can.
  }
}

void log_writer::write(std::uint16_t stream, time_point time, std::string_view payload) {
  state& s = *m_state;
  s.check_usable();
  if (stream >= s.streams.size()) {
    throw std::invalid_argument("asp::data::log_writer: " + s.path + " has no stream " +
                                std::to_string(stream));
  }
  if (payload.size() > max_body - body_head) {
    throw std::invalid_argument("asp::data::log_writer: a payload of " +
                                std::to_string(payload.size()) + " bytes is over the 1 GiB limit");
  }
  const std::int64_t t = time.time_since_epoch().count();
  const auto body_size = static_cast<std::uint32_t>(body_head + payload.size());
  const bool compressing = s.options.zstd_level > 0;
  std::string& into = compressing ? s.pending : s.buffer;
  const std::size_t at = into.size();
  put(into, body_size);
  put(into, std::uint32_t{0});  // the CRC, once the body is in place
  put(into, t);
  put(into, stream);
  into.append(payload);
  const std::uint32_t crc =
      crc32c(into.data() + at + frame_bytes, body_size) ^ (compressing ? inner_crc_mask : 0u);
  std::memcpy(into.data() + at + 4, &crc, 4);

  chunk& c = s.current;
  if (c.records == 0) {
    c.offset = s.size;
    c.min_time = t;
    c.max_time = t;
  } else {
    c.min_time = std::min(c.min_time, t);
    c.max_time = std::max(c.max_time, t);
  }
  ++c.records;
  if (!compressing) s.size += frame_bytes + body_size;
  ++s.written;
  ++s.since_sync;

  const fsync_policy& policy = s.options.fsync;
  if ((policy.every_records != 0 && s.since_sync >= policy.every_records) ||
      (policy.every != std::chrono::nanoseconds::zero() &&
       std::chrono::steady_clock::now() - s.last_sync >= policy.every)) {
    s.sync();
  } else if (c.records >= s.options.chunk_records) {
    s.end_chunk();
  } else if (s.buffer.size() >= s.options.buffer_bytes) {
    s.flush_buffer();
  }
}

void log_writer::flush() {
  m_state->check_usable();
  m_state->flush_buffer();
}

void log_writer::sync() {
  m_state->check_usable();
  m_state->sync();
}

void log_writer::close() {
  if (!m_state || m_state->closed) return;
  state& s = *m_state;
  s.closed = true;
  struct closer {
    state& s;
    ~closer() {
      if (s.fd >= 0) ::close(s.fd);
      if (s.index_fd >= 0) ::close(s.index_fd);
      s.fd = s.index_fd = -1;
    }
  } close_files{s};
  if (s.failed) return;
  s.sync();
  if (::fdatasync(s.index_fd) != 0) s.fail("sync the index of", errno);
}

std::uint16_t log_writer::stream_id(std::string_view name) const {
  const auto& streams = m_state->streams;
  for (std::size_t i = 0; i < streams.size(); ++i) {
    if (streams[i].name == name) return static_cast<std::uint16_t>(i);
  }
  throw std::invalid_argument("asp::data::log_writer: " + m_state->path + " has no stream '" +
                              std::string(name) + "'");
}

std::uint64_t log_writer::written() const noexcept {
  return m_state->written;
}
std::uint64_t log_writer::acknowledged() const noexcept {
  return m_state->acknowledged;
}
const std::string& log_writer::path() const noexcept {
  return m_state->path;
}

// ---------------------------------------------------------------------------------------------
// Reading

namespace detail {

enum class check { ok, incomplete, bad };

struct parsed {
  std::uint32_t body = 0;
  std::int64_t time = 0;
  std::uint16_t stream = 0;
};

struct log_file {
  mapped_file file;
  std::string creator;
  std::vector<log_stream> streams;
  std::uint64_t first_record = 0;  // where records start
  std::vector<chunk> chunks;
  std::vector<std::int64_t> prefix_max;  // of chunks' max_time
  std::uint64_t indexed_end = 0;         // where the index (read or rebuilt) stops
  log_read_options options;
  std::vector<bool> selected;
  std::shared_ptr<log_report> report = std::make_shared<log_report>();
  std::set<std::uint64_t> corrupt_seen;
  std::vector<std::unique_ptr<log_cursor>> cursors;
  log_cursor* delivered = nullptr;  // whose head is the current record
  std::unique_ptr<ZSTD_DCtx, decltype(&ZSTD_freeDCtx)> dctx{nullptr, &ZSTD_freeDCtx};

  explicit log_file(std::string path) : file(std::move(path)) {}
  ~log_file();
  const std::string& path() const { return file.path(); }
  std::string_view bytes() const { return file.bytes(); }

  check at(std::uint64_t offset, parsed& out) const {
    const std::string_view b = bytes();
    if (offset + frame_bytes > b.size()) return check::incomplete;
    const char* p = b.data() + offset;
    const auto body = get<std::uint32_t>(p);
    if (body < body_head || body > max_body) return check::bad;
    if (offset + frame_bytes + body > b.size()) return check::incomplete;
    if (crc32c(p + frame_bytes, body) != get<std::uint32_t>(p + 4)) return check::bad;
    const auto stream = get<std::uint16_t>(p + frame_bytes + 8);
    if (stream == chunk_stream ? body < body_head + chunk_head : stream >= streams.size()) {
      return check::bad;
    }
    out = {body, get<std::int64_t>(p + frame_bytes), stream};
    return check::ok;
  }

  // A record inside a decompressed chunk: whole, checksummed, of a known stream.
  bool inner_at(std::string_view b, std::size_t offset, parsed& out) const {
    if (offset + frame_bytes > b.size()) return false;
    const char* p = b.data() + offset;
    const auto body = get<std::uint32_t>(p);
    if (body < body_head || offset + frame_bytes + body > b.size()) return false;
    if ((crc32c(p + frame_bytes, body) ^ inner_crc_mask) != get<std::uint32_t>(p + 4)) {
      return false;
    }
    const auto stream = get<std::uint16_t>(p + frame_bytes + 8);
    if (stream >= streams.size()) return false;
    out = {body, get<std::int64_t>(p + frame_bytes), stream};
    return true;
  }

  // Decompresses the chunk record at `offset` into `out`; false (and why) when it cannot be.
  bool decompress(std::uint64_t offset, const parsed& r, std::string& out, std::string& why) {
    const char* payload = bytes().data() + offset + frame_bytes + body_head;
    const auto raw = get<std::uint32_t>(payload + 12);
    if (!dctx) dctx.reset(ZSTD_createDCtx());
    out.resize(raw);
    const std::size_t n = ZSTD_decompressDCtx(
        dctx.get(), out.data(), out.size(), payload + chunk_head, r.body - body_head - chunk_head);
    if (ZSTD_isError(n) != 0) {
      why = ZSTD_getErrorName(n);
      return false;
    }
    if (n != raw) {
      why = "it holds " + std::to_string(n) + " bytes, not " + std::to_string(raw);
      return false;
    }
    return true;
  }

  // The next offset after `from` where a valid record starts, if any.
  std::optional<std::uint64_t> resync(std::uint64_t from) const {
    parsed ignored;
    for (std::uint64_t p = from; p + frame_bytes + body_head <= bytes().size(); ++p) {
      if (at(p, ignored) == check::ok) return p;
    }
    return std::nullopt;
  }

  void parse_header() {
    const std::string_view b = bytes();
    if (!b.starts_with(header_magic)) {
      throw input_error(path() + ": not a record log (it does not start with 'ASPLOG')");
    }
    std::size_t pos = 0;
    auto line = [&]() -> std::optional<std::string_view> {
      const std::size_t end = b.find('\n', pos);
      if (end == std::string_view::npos) return std::nullopt;
      const std::string_view l = b.substr(pos, end - pos);
      pos = end + 1;
      return l;
    };
    const auto first = line();
    if (!first) throw input_error(path() + ": the header is incomplete");
    int version = 0;
    const std::string_view v = first->substr(header_magic.size());
    if (std::from_chars(v.data(), v.data() + v.size(), version).ec != std::errc()) {
      throw input_error(path() + ": not a record log (no format version)");
    }
    if (version != format_version) {
      throw input_error(path() + ": format version " + std::to_string(version) +
                        "; this reader reads version " + std::to_string(format_version));
    }
    for (;;) {
      const std::size_t line_start = pos;
      const auto l = line();
      if (!l) throw input_error(path() + ": the header is incomplete");
      if (l->starts_with("crc: ")) {
        char expected[16];
        std::snprintf(expected, sizeof expected, "%08x", crc32c(b.substr(0, line_start)));
        if (l->substr(5) != expected) {
          throw input_error(path() + ": the header is corrupt (its CRC does not match)");
        }
        break;
      }
      if (l->starts_with("creator: ")) {
        creator = std::string(l->substr(9));
      } else if (l->starts_with("stream: ")) {
        streams.push_back({std::string(l->substr(8)), {}});
      } else if (l->starts_with("schema: ") && !streams.empty()) {
        streams.back().schema = std::string(l->substr(8));
      }
      // Other lines are for later versions' readers.
    }
    first_record = pos;
  }

  void load_index() {
    std::uint64_t pos = first_record;
    bool had_index = false;
    std::error_code ec;
    const std::string index_path = path() + ".idx";
    if (std::filesystem::exists(index_path, ec)) {
      try {
        const mapped_file index(index_path);
        const std::string_view ib = index.bytes();
        if (ib.starts_with(index_magic)) {
          had_index = true;
          for (std::size_t e = index_magic.size(); e + index_entry_bytes <= ib.size();
               e += index_entry_bytes) {
            const char* p = ib.data() + e;
            if (crc32c(p, index_entry_bytes - 4) != get<std::uint32_t>(p + 36)) break;
            chunk c{get<std::uint64_t>(p), get<std::uint64_t>(p + 8), get<std::int64_t>(p + 16),
                    get<std::int64_t>(p + 24), get<std::uint32_t>(p + 32)};
            if (c.offset != pos || c.end <= c.offset || c.end > bytes().size()) break;
            chunks.push_back(c);
            pos = c.end;
          }
        }
      } catch (const input_error&) {
        had_index = false;
      }
    }
    // The rest, by scanning: chunks of the writer's default size, up to the first record that
    // is not whole and valid.
    bool scanned = false;
    chunk c{};
    parsed r;
    while (at(pos, r) == check::ok) {
      std::int64_t latest = r.time;
      std::uint32_t count = 1;
      if (r.stream == chunk_stream) {
        const char* payload = bytes().data() + pos + frame_bytes + body_head;
        latest = get<std::int64_t>(payload);
        count = get<std::uint32_t>(payload + 8);
      }
      if (c.records == 0) {
        c.offset = pos;
        c.min_time = r.time;
        c.max_time = latest;
      }
      c.min_time = std::min(c.min_time, r.time);
      c.max_time = std::max(c.max_time, latest);
      c.records += count;
      pos += frame_bytes + r.body;
      c.end = pos;
      scanned = true;
      if (c.records >= 4096) {
        chunks.push_back(c);
        c = chunk{};
      }
    }
    if (c.records > 0) chunks.push_back(c);
    indexed_end = pos;
    report->index = !had_index ? index_state::missing
                    : scanned  ? index_state::partial
                               : index_state::complete;
    report->chunks = chunks.size();
    std::int64_t running = std::numeric_limits<std::int64_t>::min();
    for (const chunk& k : chunks) {
      running = std::max(running, k.max_time);
      prefix_max.push_back(running);
    }
  }

  // Where reading starts for `options.start`: the first chunk that may hold a record at or
  // after it (every earlier record is earlier).
  std::uint64_t start_offset() const {
    if (!options.start) return first_record;
    const std::int64_t t = options.start->time_since_epoch().count();
    const auto it = std::lower_bound(prefix_max.begin(), prefix_max.end(), t);
    if (it == prefix_max.end()) return indexed_end;
    return chunks[static_cast<std::size_t>(it - prefix_max.begin())].offset;
  }
};

// One selected stream's records, in file order.
struct log_cursor {
  log_file* file;
  std::uint16_t stream;
  std::uint64_t pos;
  bool done = false;
  parsed head{};
  std::uint64_t head_offset = 0;
  std::uint64_t head_inner = 0;  // 1 + its place in a compressed chunk; 0 outside one
  const char* head_payload = nullptr;
  // The compressed chunk being read, decompressed.
  std::string inner{};
  std::size_t inner_pos = 0;
  bool in_chunk = false;
  std::uint64_t chunk_offset = 0;

  // A corrupt record at `offset`: fails the read or is counted, as the policy says.
  void corrupt(std::uint64_t offset, const std::string& what) {
    if (file->options.on_corrupt == corrupt_records::fail) {
      throw input_error(file->path() + ": corrupt record at offset " + std::to_string(offset) +
                        " (" + what + ")");
    }
    if (file->corrupt_seen.insert(offset).second) ++file->report->corrupt_skipped;
  }

  // Whether a record of this stream at `t` is before the range (skip it) or after (the end).
  bool before_start(std::int64_t t) const {
    return file->options.start && t < file->options.start->time_since_epoch().count();
  }
  bool after_end(std::int64_t t) const {
    return file->options.end && t > file->options.end->time_since_epoch().count();
  }

  // Moves to this stream's next record in range; false at the end.
  bool next() {
    while (!done) {
      if (in_chunk) {
        if (inner_pos >= inner.size()) {
          in_chunk = false;
          continue;
        }
        parsed r;
        if (!file->inner_at(inner, inner_pos, r)) {
          in_chunk = false;
          corrupt(chunk_offset, "a bad record inside its compressed chunk");
          continue;
        }
        const std::size_t at = inner_pos;
        inner_pos += frame_bytes + r.body;
        if (r.stream != stream || before_start(r.time)) continue;
        if (after_end(r.time)) {
          done = true;
          break;
        }
        head = r;
        head_offset = chunk_offset;
        head_inner = at + 1;
        head_payload = inner.data() + at + frame_bytes + body_head;
        return true;
      }
      parsed r;
      const check c = file->at(pos, r);
      if (c != check::ok) {
        if (pos == file->bytes().size()) {
          done = true;
          break;
        }
        const std::optional<std::uint64_t> next_valid = file->resync(pos + 1);
        if (!next_valid) {
          file->report->torn = torn_tail{pos, file->bytes().size() - pos};
          done = true;
          break;
        }
        const std::uint64_t bad = pos;
        pos = *next_valid;
        corrupt(bad, std::string(c == check::bad ? "bad size or CRC" : "cut short") +
                         "; the next valid record is at offset " + std::to_string(*next_valid));
        continue;
      }
      const std::uint64_t offset = pos;
      pos += frame_bytes + r.body;
      if (r.stream == chunk_stream) {
        const char* payload = file->bytes().data() + offset + frame_bytes + body_head;
        if (before_start(get<std::int64_t>(payload))) continue;  // wholly before the range
        std::string why;
        if (!file->decompress(offset, r, inner, why)) {
          corrupt(offset, "cannot decompress its chunk: " + why);
          continue;
        }
        in_chunk = true;
        inner_pos = 0;
        chunk_offset = offset;
        continue;
      }
      if (r.stream != stream || before_start(r.time)) continue;
      if (after_end(r.time)) {
        done = true;
        break;
      }
      head = r;
      head_offset = offset;
      head_inner = 0;
      head_payload = file->bytes().data() + offset + frame_bytes + body_head;
      return true;
    }
    return false;
  }
};

log_file::~log_file() = default;

}  // namespace detail

log_reader::log_reader(std::string path, log_read_options options)
    : m_file(std::make_unique<detail::log_file>(std::move(path))) {
  detail::log_file& f = *m_file;
  f.options = std::move(options);
  f.parse_header();
  f.load_index();
  f.selected.assign(f.streams.size(), f.options.streams.empty());
  for (const std::string& name : f.options.streams) f.selected[stream_id(name)] = true;
}

log_reader::log_reader(log_reader&&) noexcept = default;
log_reader& log_reader::operator=(log_reader&&) noexcept = default;

log_reader::~log_reader() = default;

log_reader::iterator log_reader::begin() {
  if (!m_begun) {
    m_begun = true;
    detail::log_file& f = *m_file;
    const std::uint64_t from = f.start_offset();
    for (std::size_t s = 0; s < f.streams.size(); ++s) {
      if (!f.selected[s]) continue;
      f.cursors.push_back(std::make_unique<detail::log_cursor>(
          detail::log_cursor{&f, static_cast<std::uint16_t>(s), from}));
      f.cursors.back()->next();
    }
    advance();
  }
  return iterator{this};
}

// The earliest head among the cursors, ties to the earlier record. The cursor whose head was
// delivered last moves on only now, when the next record is asked for, so a corrupt record
// never costs the valid one before it.
void log_reader::advance() {
  detail::log_file& f = *m_file;
  if (f.delivered != nullptr) std::exchange(f.delivered, nullptr)->next();
  detail::log_cursor* best = nullptr;
  for (const std::unique_ptr<detail::log_cursor>& cursor : f.cursors) {
    detail::log_cursor* c = cursor.get();
    if (c->done) continue;
    if (best == nullptr || std::tie(c->head.time, c->head_offset, c->head_inner) <
                               std::tie(best->head.time, best->head_offset, best->head_inner)) {
      best = c;
    }
  }
  if (best == nullptr) {
    m_done = true;
    return;
  }
  m_current.time = time_point{duration{best->head.time}};
  m_current.value =
      log_record{best->stream, std::string_view(best->head_payload, best->head.body - body_head),
                 best->head_offset};
  ++f.report->records;
  f.delivered = best;
}

const event<log_record>& log_reader::iterator::operator*() const noexcept {
  return m_reader->m_current;
}

log_reader::iterator& log_reader::iterator::operator++() {
  m_reader->advance();
  return *this;
}

bool log_reader::iterator::done() const noexcept {
  return m_reader->m_done;
}

const std::vector<log_stream>& log_reader::streams() const noexcept {
  return m_file->streams;
}
const std::string& log_reader::creator() const noexcept {
  return m_file->creator;
}
std::uint16_t log_reader::stream_id(std::string_view name) const {
  const auto& streams = m_file->streams;
  for (std::size_t i = 0; i < streams.size(); ++i) {
    if (streams[i].name == name) return static_cast<std::uint16_t>(i);
  }
  std::string names;
  for (const log_stream& s : streams) names += (names.empty() ? "'" : ", '") + s.name + "'";
  throw input_error(m_file->path() + ": no stream '" + std::string(name) + "' (the file has " +
                    (names.empty() ? std::string("none") : names) + ")");
}
std::shared_ptr<const log_report> log_reader::report() const noexcept {
  return m_file->report;
}
const std::string& log_reader::path() const noexcept {
  return m_file->path();
}

}  // namespace asp::data

#include <asp/data/log.hpp>

#include <asp/data/crc32c.hpp>

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
#include <utility>

namespace asp::data {

namespace {

// The file's layout (docs/record-log.md).
constexpr std::string_view header_magic = "ASPLOG ";
constexpr int format_version = 1;
constexpr std::size_t frame_bytes = 8;  // u32 body size, u32 CRC-32C of the body
constexpr std::size_t body_head = 10;   // i64 time, u16 stream
constexpr std::uint32_t max_body = std::uint32_t{1} << 30;

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

std::string header_text(const std::string& creator, const std::vector<log_stream>& streams) {
  std::string text = std::string(header_magic) + std::to_string(format_version) + "\n";
  text += "creator: " + creator + "\n";
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

  void end_chunk() {
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
  const std::string header = header_text(s.options.creator, s.streams);
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
  const std::size_t at = s.buffer.size();
  put(s.buffer, body_size);
  put(s.buffer, std::uint32_t{0});  // the CRC, once the body is in place
  put(s.buffer, t);
  put(s.buffer, stream);
  s.buffer.append(payload);
  const std::uint32_t crc = crc32c(s.buffer.data() + at + frame_bytes, std::size_t{body_size});
  std::memcpy(s.buffer.data() + at + 4, &crc, 4);

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
  s.size += frame_bytes + body_size;
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
    if (crc32c(p + frame_bytes, std::size_t{body}) != get<std::uint32_t>(p + 4)) return check::bad;
    const auto stream = get<std::uint16_t>(p + frame_bytes + 8);
    if (stream >= streams.size()) return check::bad;
    out = {body, get<std::int64_t>(p + frame_bytes), stream};
    return check::ok;
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
      if (c.records == 0) {
        c.offset = pos;
        c.min_time = c.max_time = r.time;
      }
      c.min_time = std::min(c.min_time, r.time);
      c.max_time = std::max(c.max_time, r.time);
      ++c.records;
      pos += frame_bytes + r.body;
      c.end = pos;
      scanned = true;
      if (c.records == 4096) {
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

  // Moves to this stream's next record in range; false at the end.
  bool next() {
    const std::optional<time_point>& start = file->options.start;
    const std::optional<time_point>& end = file->options.end;
    while (!done) {
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
        if (file->options.on_corrupt == corrupt_records::fail) {
          throw input_error(file->path() + ": corrupt record at offset " + std::to_string(pos) +
                            " (" + (c == check::bad ? "bad size or CRC" : "cut short") +
                            "); the next valid record is at offset " + std::to_string(*next_valid));
        }
        if (file->corrupt_seen.insert(pos).second) ++file->report->corrupt_skipped;
        pos = *next_valid;
        continue;
      }
      const std::uint64_t offset = pos;
      pos += frame_bytes + r.body;
      if (r.stream != stream) continue;
      if (start && r.time < start->time_since_epoch().count()) continue;
      if (end && r.time > end->time_since_epoch().count()) {
        done = true;
        break;
      }
      head = r;
      head_offset = offset;
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
    if (best == nullptr || c->head.time < best->head.time ||
        (c->head.time == best->head.time && c->head_offset < best->head_offset)) {
      best = c;
    }
  }
  if (best == nullptr) {
    m_done = true;
    return;
  }
  const char* body = f.bytes().data() + best->head_offset + frame_bytes;
  m_current.time = time_point{duration{best->head.time}};
  m_current.value =
      log_record{best->stream, std::string_view(body + body_head, best->head.body - body_head),
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

#include <asp/data/log.hpp>

#include <asp/data/crc32c.hpp>

#include "log_format.hpp"
#include "log_scan.hpp"

#include <zstd.h>

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <stdexcept>
#include <system_error>
#include <tuple>
#include <utility>

namespace asp::data {

namespace {

using namespace detail;

void check_text(std::string_view what, std::string_view text) {
  if (text.find('\n') != std::string_view::npos || text.find('\r') != std::string_view::npos) {
    throw std::invalid_argument("asp::data::log_writer: " + std::string(what) +
                                " must be one line: '" + std::string(text) + "'");
  }
}

std::string header_text(const std::string& creator, const std::vector<log_stream>& streams,
                        int zstd_level) {
  const int version = zstd_level > 0 ? format_version_compact : format_version;
  std::string text = std::string(header_magic) + std::to_string(version) + "\n";
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

std::string index_entry(const chunk& c) {
  std::string out;
  put(out, c.offset);
  put(out, c.end);
  put(out, c.min_time);
  put(out, c.max_time);
  put(out, c.records);
  put(out, c.first_crc);
  put(out, crc32c(out));
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Writing

struct log_writer::state {
  std::string root;  // the file, or the dataset's directory
  std::string path;  // the file being written
  std::vector<log_stream> streams;
  log_writer_options options;
  int fd = -1;
  int index_fd = -1;
  std::string buffer;
  std::string pending;            // a compressed chunk's records, until it ends
  std::int64_t pending_last = 0;  // the time of its last record (its next one's is from it)
  std::string compressed;
  std::unique_ptr<ZSTD_CCtx, decltype(&ZSTD_freeCCtx)> zstd{nullptr, &ZSTD_freeCCtx};
  std::uint64_t size = 0;  // bytes of the file, buffered ones included
  chunk current{};
  std::uint64_t written = 0;
  std::uint64_t acknowledged = 0;
  std::optional<time_point> synced_at;  // the real time of the last fdatasync of records
  std::uint64_t since_sync = 0;
  std::uint64_t files = 0;         // files made
  std::uint64_t file_records = 0;  // records in the file being written
  std::int64_t file_first = 0;     // the event time of its first record
  std::chrono::steady_clock::time_point last_sync = std::chrono::steady_clock::now();
  bool failed = false;
  bool closed = false;

  state() = default;
  state(const state&) = delete;
  state& operator=(const state&) = delete;
  ~state() {
    if (fd >= 0) ::close(fd);
    if (index_fd >= 0) ::close(index_fd);
  }

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
    current.first_crc = crc;
    size += frame_bytes + body;
    pending.clear();
    pending_last = 0;
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
    synced_at = time_point{
        std::chrono::duration_cast<duration>(std::chrono::system_clock::now().time_since_epoch())};
  }

  // Creates the file `path` and its index, and writes the header durably. A dataset's file is
  // made under a temporary name and linked to its own once its header is durable: a file of a
  // dataset is never seen without its header.
  void open_file(bool in_dataset) {
    const std::string made = in_dataset ? path + ".partial" : path;
    // Never through a symbolic link someone planted where the file goes.
    const int create = O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW |
                       (options.overwrite || in_dataset ? O_TRUNC : O_EXCL);
    fd = ::open(made.c_str(), create, 0644);
    if (fd < 0) fail("create", errno);
    const std::string header = header_text(options.creator, streams, options.zstd_level);
    write_all(fd, header, "write");
    size = header.size();
    // The header and the file's name are durable before any record is acknowledged.
    if (::fdatasync(fd) != 0) fail("sync", errno);
    if (in_dataset) {
      if (::link(made.c_str(), path.c_str()) != 0) fail("name", errno);
      ::unlink(made.c_str());
    }
    const std::string index_path = path + ".idx";
    // An index left from before is replaced, but only a regular file, never through a link
    // (and a FIFO planted there must not block the open).
    auto refuse = [&] {
      failed = true;
      throw std::system_error(EEXIST, std::generic_category(),
                              "cannot create the index of " + path + ": " + index_path +
                                  " is not a regular file (" + std::to_string(acknowledged) +
                                  " records acknowledged)");
    };
    struct stat st {};
    if (::lstat(index_path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) refuse();
    index_fd =
        ::open(index_path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644);
    if (index_fd < 0) fail("create the index of", errno);
    if (::fstat(index_fd, &st) != 0) fail("create the index of", errno);
    if (!S_ISREG(st.st_mode)) refuse();
    if (::ftruncate(index_fd, 0) != 0) fail("create the index of", errno);
    // Bound to this file's header: an index left beside another log is not taken for its.
    std::string index_head(index_magic);
    put(index_head, crc32c(std::string_view(header).substr(0, header.rfind("crc: "))));
    write_all(index_fd, index_head, "write the index of");
    const std::filesystem::path parent = std::filesystem::absolute(path).parent_path();
    const int dir = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
      ::fsync(dir);
      ::close(dir);
    }
    ++files;
    file_records = 0;
  }

  void close_file() {
    struct closer {
      state& s;
      ~closer() {
        if (s.fd >= 0) ::close(s.fd);
        if (s.index_fd >= 0) ::close(s.index_fd);
        s.fd = s.index_fd = -1;
      }
    } close_files{*this};
    if (failed) return;
    sync();
    if (::fdatasync(index_fd) != 0) fail("sync the index of", errno);
  }

  // The name of a dataset's file `n`.
  std::string dataset_file(std::uint64_t n) const {
    char name[32];
    std::snprintf(name, sizeof name, "%08llu.asplog", static_cast<unsigned long long>(n));
    return (std::filesystem::path(root) / name).string();
  }

  // Whether a record of `bytes` at `t` goes into a new file.
  bool splits_before(std::int64_t t, std::size_t bytes) const {
    const split_policy& split = options.split;
    if (file_records == 0) return false;
    if (split.bytes != 0 && size + pending.size() + bytes > split.bytes) return true;
    return split.duration > std::chrono::nanoseconds::zero() && t >= file_first &&
           static_cast<std::uint64_t>(t) - static_cast<std::uint64_t>(file_first) >=
               static_cast<std::uint64_t>(split.duration.count());
  }

  void rotate() {
    close_file();
    path = dataset_file(files);
    open_file(true);
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
  std::set<std::string_view> names;
  for (const log_stream& stream : s.streams) {
    check_text("a stream's name", stream.name);
    check_text("a stream's schema", stream.schema);
    if (stream.name.empty())
      throw std::invalid_argument("asp::data::log_writer: a stream without a name");
    if (!names.insert(stream.name).second) {
      throw std::invalid_argument("asp::data::log_writer: two streams are named '" + stream.name +
                                  "'");
    }
  }
  if (s.options.chunk_records == 0) s.options.chunk_records = 1;
  if (s.options.zstd_level < 0 || s.options.zstd_level > ZSTD_maxCLevel()) {
    throw std::invalid_argument("asp::data::log_writer: the zstd level must be 0 to " +
                                std::to_string(ZSTD_maxCLevel()));
  }
  if (s.options.zstd_level > 0) s.zstd.reset(ZSTD_createCCtx());
  s.root = s.path;
  if (!s.options.split.splits()) {
    s.open_file(false);
    return;
  }
  // A dataset: a directory without logs, or emptied of them.
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(s.root, ec);
  if (ec || !fs::is_directory(s.root)) {
    s.path = s.root;
    s.fail("make the dataset directory", ec ? ec.value() : ENOTDIR);
  }
  std::vector<fs::path> logs;
  for (const fs::directory_entry& e : fs::directory_iterator(s.root, ec)) {
    const std::string name = e.path().filename().string();
    if (name.ends_with(".asplog") || name.ends_with(".asplog.idx") ||
        name.ends_with(".asplog.partial")) {
      logs.push_back(e.path());
    }
  }
  std::sort(logs.begin(), logs.end());
  if (!logs.empty() && !s.options.overwrite) {
    throw std::system_error(EEXIST, std::generic_category(),
                            "cannot create the dataset " + s.root + ": it holds logs already (" +
                                logs.front().filename().string() + ")");
  }
  for (const fs::path& p : logs) fs::remove(p, ec);
  s.path = s.dataset_file(0);
  s.open_file(true);
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
  if (s.options.split.splits() && s.splits_before(t, frame_bytes + body_size)) s.rotate();
  if (s.file_records++ == 0) s.file_first = t;
  const bool compressing = s.options.zstd_level > 0;
  std::uint32_t crc = 0;
  if (compressing) {
    // Inside a compressed chunk (format version 2): the time from the previous record's, and
    // no CRC of its own.
    std::string& into = s.pending;
    put(into, body_size);
    put(into, std::uint32_t{0});
    put(into, static_cast<std::int64_t>(static_cast<std::uint64_t>(t) -
                                        static_cast<std::uint64_t>(s.pending_last)));
    put(into, stream);
    into.append(payload);
    s.pending_last = t;
  } else {
    std::string& into = s.buffer;
    const std::size_t at = into.size();
    put(into, body_size);
    put(into, std::uint32_t{0});  // the CRC, once the body is in place
    put(into, t);
    put(into, stream);
    into.append(payload);
    crc = crc32c(into.data() + at + frame_bytes, body_size);
    std::memcpy(into.data() + at + 4, &crc, 4);
  }

  chunk& c = s.current;
  if (c.records == 0) {
    c.offset = s.size;
    c.first_crc = crc;  // compressed: the chunk's own record's, when it is sealed
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
  m_state->closed = true;
  m_state->close_file();
}

std::uint16_t log_writer::stream_id(std::string_view name) const {
  if (const std::optional<std::uint16_t> id = detail::find_stream(m_state->streams, name)) {
    return *id;
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
std::optional<time_point> log_writer::last_sync() const noexcept {
  return m_state->synced_at;
}
const std::string& log_writer::path() const noexcept {
  return m_state->root;
}
const std::string& log_writer::file() const noexcept {
  return m_state->path;
}
std::uint64_t log_writer::files() const noexcept {
  return m_state->files;
}

// ---------------------------------------------------------------------------------------------
// Reading (the scan itself is in log_scan.cpp)

namespace detail {

std::size_t physical_cores(const std::string& sys_cpu_dir, const std::vector<int>& cpus) {
  std::set<std::pair<long, long>> cores;
  for (const int cpu : cpus) {
    const std::string topology = sys_cpu_dir + "/cpu" + std::to_string(cpu) + "/topology/";
    std::ifstream package_file(topology + "physical_package_id");
    std::ifstream core_file(topology + "core_id");
    long package = 0;
    long core = 0;
    if (!(package_file >> package) || !(core_file >> core)) return 1;
    cores.emplace(package, core);
  }
  return std::max<std::size_t>(cores.size(), 1);
}

double cgroup_cpu_limit(const std::string& cpu_max) {
  constexpr double none = std::numeric_limits<double>::infinity();
  std::ifstream limit(cpu_max);
  std::string quota;
  double period = 0;
  if (!(limit >> quota >> period) || quota == "max" || !(period > 0)) return none;
  char* end = nullptr;
  const double q = std::strtod(quota.c_str(), &end);
  return end == quota.c_str() + quota.size() && q > 0 ? q / period : none;
}

bool read_ahead_pays() {
  static const bool pays = [] {
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return false;
    std::vector<int> cpus;
    for (std::size_t cpu = 0; cpu < static_cast<std::size_t>(CPU_SETSIZE); ++cpu) {
      if (CPU_ISSET(cpu, &allowed)) cpus.push_back(static_cast<int>(cpu));
    }
    return cpus.size() >= 2 && physical_cores("/sys/devices/system/cpu", cpus) >= 2 &&
           cgroup_cpu_limit("/sys/fs/cgroup/cpu.max") >= 2;
  }();
  return pays;
}

namespace {

constexpr std::int64_t no_later = std::numeric_limits<std::int64_t>::max();

// A record taken from a scan before its turn, holding its block.
struct held {
  rec r;
  block* b;
  record_scan* from;
};

// One selected stream of a reader.
struct lane {
  std::deque<held> queue;
  std::unique_ptr<record_scan> own;  // detached from the shared scan: a scan of its own
  bool selected = false;
  bool passed = false;  // the shared scan went past a record of it while it was not selected
  bool done = false;    // past its end time, or its records are over
};

}  // namespace

/// What every reader of a file or dataset keeps: its files, the options, the report, the
/// streams' lanes, and the shared scan.
struct reader_state {
  std::shared_ptr<const log_set> set;
  log_read_options options;
  std::shared_ptr<log_report> report = std::make_shared<log_report>();
  std::set<std::pair<std::uint32_t, std::uint64_t>> corrupt_seen;
  std::int64_t end = no_later;
  std::vector<lane> lanes;
  std::unique_ptr<record_scan> scan;
  std::size_t held_count = 0;  // records held in lanes' queues from the shared scan
  // The shared scan yields every stream, and the lanes choose: a stream can join it later,
  // while it has not gone past any of the stream's records (a log_file's sources).
  bool open_selection = false;

  reader_state(std::shared_ptr<const log_set> files, log_read_options read_options)
      : set(std::move(files)), options(std::move(read_options)) {
    for (const log_set::member& m : set->files) {
      report->index = std::max(report->index, m.index);
      report->chunks += m.chunks;
    }
    if (options.end) end = options.end->time_since_epoch().count();
    lanes.resize(set->streams.size());
  }

  std::optional<std::int64_t> start() const {
    if (!options.start) return std::nullopt;
    return options.start->time_since_epoch().count();
  }

  scan_plan plan(std::vector<bool> streams) const {
    scan_plan p;
    p.streams = std::move(streams);
    p.start = start();
    if (options.end) p.end = end;
    p.read_ahead = options.ahead == read_ahead::thread ||
                   (options.ahead == read_ahead::automatic && read_ahead_pays());
    return p;
  }

  void start_shared_scan() {
    std::vector<bool> streams(lanes.size());
    for (std::size_t s = 0; s < lanes.size(); ++s) streams[s] = open_selection || lanes[s].selected;
    scan = std::make_unique<record_scan>(set, plan(std::move(streams)));
  }

  // What a scan found that is not a record: fails the read or is counted, as the options say.
  void on_problem(const rec& r, const problem& p) {
    const std::string& path = set->files[r.file].path;
    switch (p.what) {
      case problem::kind::corrupt:
        if (options.on_corrupt == corrupt_records::fail) {
          throw input_error(path + ": corrupt record at offset " + std::to_string(p.offset) + " (" +
                            p.detail + ")");
        }
        if (corrupt_seen.emplace(r.file, p.offset).second) ++report->corrupt_skipped;
        break;
      case problem::kind::torn:
        report->torn = torn_tail{p.offset, p.bytes, path};
        break;
      case problem::kind::fatal:
        throw input_error(p.detail);
    }
  }

  void hold(lane& l, const rec& r, record_scan& from) {
    from.retain(from.current());
    l.queue.push_back({r, from.current(), &from});
    if (&from == scan.get()) ++held_count;
  }

  void drop_front(lane& l) {
    const held h = l.queue.front();
    l.queue.pop_front();
    if (h.from == scan.get()) --held_count;
    h.from->release(h.b);
  }

  // Gives stream `s` a scan of its own, going on after the record the shared scan returned
  // last (or from the start, for a stream the shared scan went past): the shared scan no longer
  // holds its records for it.
  void detach(std::uint16_t s, bool from_start = false) {
    std::vector<bool> only(lanes.size());
    only[s] = true;
    scan_plan p = plan(std::move(only));
    p.read_ahead = false;
    if (!from_start) {
      const rec& last = scan->last();
      p.file = last.file;
      p.skip_through = true;
      p.after_offset = last.offset;
      p.after_inner = last.inner;
    }
    lanes[s].own = std::make_unique<record_scan>(set, std::move(p));
  }

  // Puts the next record of a detached stream into its queue; false when it has no more.
  bool fetch_own(lane& l) {
    for (;;) {
      const rec* r = l.own->next();
      if (r == nullptr) return false;
      if (r->stream == problem_stream) {
        on_problem(*r, l.own->problem_of(*r));
        continue;
      }
      if (r->time > end) return false;
      hold(l, *r, *l.own);
      return true;
    }
  }
};

namespace {

bool head_before(const held& a, const held& b) {
  return std::tie(a.r.time, a.r.file, a.r.offset, a.r.inner) <
         std::tie(b.r.time, b.r.file, b.r.offset, b.r.inner);
}

}  // namespace

/// The merge of a reader's streams in (time, record order) from one shared scan.
///
/// A record comes straight from the scan when nothing is held and no record the scan yields
/// later can be earlier (its `rest_min`): in a file in time order, every record. Otherwise
/// records wait in their stream's queue, and the earliest head goes out once every stream that
/// could still come before it has a head, or nothing unread can be earlier. Past `max_held`
/// held records, the streams waited for get scans of their own, which bounds the memory.
class merged_scan {
 public:
  explicit merged_scan(reader_state& state) : m_state(state) {
    m_waiting = 0;
    for (const lane& l : m_state.lanes) m_waiting += l.selected ? 1 : 0;
    m_state.start_shared_scan();
  }

  const rec* next() {
    reader_state& st = m_state;
    if (m_popping) settle();
    for (;;) {
      if (!m_heap.empty()) {
        const held& best = st.lanes[m_heap.front()].queue.front();
        if (m_waiting == 0 || before_unread(best.r)) {
          m_popping = true;
          return &best.r;
        }
      } else if (m_waiting == 0) {
        return nullptr;
      }
      const rec* r = st.scan->next();
      if (r == nullptr) {
        // Every stream without a head has no more records, nor will one whose queue empties.
        for (lane& l : st.lanes) {
          if (l.selected && !l.own && l.queue.empty()) l.done = true;
        }
        m_scan_over = true;
        m_waiting = 0;
        continue;
      }
      m_bound = r->rest_min;
      if (r->stream == problem_stream) {
        st.on_problem(*r, st.scan->problem_of(*r));
        continue;
      }
      lane& l = st.lanes[r->stream];
      if (l.done || l.own) continue;
      if (r->time > st.end) {
        l.done = true;
        if (l.queue.empty()) --m_waiting;
        continue;
      }
      if (m_heap.empty() && r->time <= r->rest_min) return r;  // nothing unread is earlier
      st.hold(l, *r, *st.scan);
      if (l.queue.size() == 1) {
        --m_waiting;
        push_heap(r->stream);
      }
      if (st.held_count > st.options.max_held && m_waiting > 0) detach_waiting();
    }
  }

  /// After next() returned a record straight from the scan: the records that follow it in the
  /// block at hand and may go out straight too (nothing held, nothing unread earlier, their
  /// stream reading on), at most `max`, into `out`. They stay valid until next() is called.
  std::size_t run(event<log_record>* out, std::size_t max) {
    reader_state& st = m_state;
    if (m_popping || !m_heap.empty()) return 0;
    std::size_t n = 0;
    while (n < max) {
      const rec* r = st.scan->peek_in_block();
      if (r == nullptr || r->stream == problem_stream || r->time > r->rest_min ||
          r->time > st.end) {
        break;
      }
      const lane& l = st.lanes[r->stream];
      if (l.done || l.own) break;
      st.scan->skip_peeked();
      m_bound = r->rest_min;
      out[n].time = time_point{duration{r->time}};
      out[n].value =
          log_record{r->stream, std::string_view(r->payload, r->size), r->offset, r->file};
      ++n;
    }
    return n;
  }

 private:
  // The record delivered last leaves its queue now that the next is asked for.
  void settle() {
    reader_state& st = m_state;
    m_popping = false;
    const std::uint16_t s = m_heap.front();
    std::pop_heap(m_heap.begin(), m_heap.end(), m_greater);
    m_heap.pop_back();
    lane& l = st.lanes[s];
    st.drop_front(l);
    if (l.queue.empty() && l.own && !l.done && !st.fetch_own(l)) l.done = true;
    if (!l.queue.empty()) {
      push_heap(s);
    } else if (m_scan_over) {
      l.done = true;
    } else if (!l.done) {
      ++m_waiting;
    }
  }

  // Whether `r` comes before every record the shared scan has not yielded yet: those are no
  // earlier than the bound, and on a tie later in the file than where the scan is (`r` may come
  // from a detached stream's scan, which runs ahead). Asked only while streams wait for the
  // shared scan, which has then not ended.
  bool before_unread(const rec& r) const {
    if (r.time != m_bound) return r.time < m_bound;
    const rec& last = m_state.scan->last();
    return std::tie(r.file, r.offset, r.inner) <= std::tie(last.file, last.offset, last.inner);
  }

  void push_heap(std::uint16_t s) {
    m_heap.push_back(s);
    std::push_heap(m_heap.begin(), m_heap.end(), m_greater);
  }

  void detach_waiting() {
    reader_state& st = m_state;
    for (std::size_t s = 0; s < st.lanes.size(); ++s) {
      lane& l = st.lanes[s];
      if (!l.selected || l.done || l.own || !l.queue.empty()) continue;
      st.detach(static_cast<std::uint16_t>(s));
      if (st.fetch_own(l)) {
        push_heap(static_cast<std::uint16_t>(s));
      } else {
        l.done = true;
      }
    }
    m_waiting = 0;
  }

  struct later {
    const reader_state* st;
    bool operator()(std::uint16_t a, std::uint16_t b) const {
      return head_before(st->lanes[b].queue.front(), st->lanes[a].queue.front());
    }
  };

  reader_state& m_state;
  std::vector<std::uint16_t> m_heap;  // streams with a head, earliest first
  later m_greater{&m_state};
  std::size_t m_waiting = 0;  // streams that may still have records but have no head
  std::int64_t m_bound = std::numeric_limits<std::int64_t>::min();
  bool m_popping = false;    // the heap's first head was delivered
  bool m_scan_over = false;  // the shared scan has ended
};

/// A log_reader's state.
struct reader_impl {
  reader_impl(std::shared_ptr<const log_set> set, log_read_options options)
      : state(std::move(set), std::move(options)) {}
  reader_state state;
  std::unique_ptr<merged_scan> merge;
};

/// The scan that a log_file's typed sources share: each takes its stream's records from its
/// queue, or reads the shared scan on, holding the other streams' records for them.
struct shared_scan {
  shared_scan(std::shared_ptr<const log_set> set, log_read_options options)
      : state(std::move(set), std::move(options)) {
    state.open_selection = true;
  }

  std::uint16_t add(std::string_view name) {
    const std::uint16_t s = state.set->stream_id(name);
    lane& l = state.lanes[s];
    if (l.selected) {
      throw std::logic_error("asp::data::log_file: " + state.set->name + ": stream '" +
                             std::string(name) + "' already has a source");
    }
    l.selected = true;
    // The shared scan went past some of its records: it reads with a scan of its own.
    if (l.passed) state.detach(s, true);
    popping.resize(state.lanes.size());
    return s;
  }

  bool next(std::uint16_t s, shared_record& out) {
    reader_state& st = state;
    lane& l = st.lanes[s];
    if (popping[s]) {
      popping[s] = false;
      st.drop_front(l);
    }
    if (l.queue.empty() && l.own && !l.done && !st.fetch_own(l)) l.done = true;
    if (!l.queue.empty()) {
      popping[s] = true;
      return deliver(l.queue.front().r, out);
    }
    if (l.done || over) return false;
    if (!st.scan) st.start_shared_scan();
    for (;;) {
      const rec* r = st.scan->next();
      if (r == nullptr) {
        over = true;
        return false;
      }
      if (r->stream == problem_stream) {
        st.on_problem(*r, st.scan->problem_of(*r));
        continue;
      }
      lane& o = st.lanes[r->stream];
      if (!o.selected) {
        o.passed = true;
        continue;
      }
      if (o.done || o.own) continue;
      if (r->time > st.end) {
        o.done = true;
        if (&o == &l) return false;
        continue;
      }
      if (&o == &l) return deliver(*r, out);
      st.hold(o, *r, *st.scan);
      if (st.held_count > st.options.max_held) {
        st.detach(s);
        if (!st.fetch_own(l)) {
          l.done = true;
          return false;
        }
        popping[s] = true;
        return deliver(l.queue.front().r, out);
      }
    }
  }

  bool deliver(const rec& r, shared_record& out) {
    out = {r.time, std::string_view(r.payload, r.size), r.offset, r.file};
    ++state.report->records;
    return true;
  }

  reader_state state;
  std::vector<bool> popping;  // by stream: its queue's first record was delivered
  bool over = false;          // the shared scan has ended
};

std::shared_ptr<shared_scan> open_shared(std::vector<std::string> paths, log_read_options options) {
  return std::make_shared<shared_scan>(log_set::open(std::move(paths)), std::move(options));
}
std::uint16_t shared_add(shared_scan& scan, std::string_view stream) {
  return scan.add(stream);
}
bool shared_next(shared_scan& scan, std::uint16_t stream, shared_record& out) {
  return scan.next(stream, out);
}
const std::string& shared_path(const shared_scan& scan) noexcept {
  return scan.state.set->name;
}
const std::string& shared_file(const shared_scan& scan, std::uint32_t file) noexcept {
  return scan.state.set->files[file].path;
}
const std::vector<log_stream>& shared_streams(const shared_scan& scan) noexcept {
  return scan.state.set->streams;
}
const std::string& shared_creator(const shared_scan& scan) noexcept {
  return scan.state.set->creator;
}
std::shared_ptr<const log_report> shared_report(const shared_scan& scan) noexcept {
  return scan.state.report;
}

}  // namespace detail

log_reader::log_reader(std::string path, log_read_options options)
    : log_reader(std::vector<std::string>{std::move(path)}, std::move(options)) {}

log_reader::log_reader(std::vector<std::string> paths, log_read_options options)
    : m_file(std::make_unique<detail::reader_impl>(detail::log_set::open(std::move(paths)),
                                                   std::move(options))) {
  detail::reader_state& st = m_file->state;
  for (detail::lane& l : st.lanes) l.selected = st.options.streams.empty();
  for (const std::string& name : st.options.streams) st.lanes[stream_id(name)].selected = true;
}

log_reader::log_reader(log_reader&&) noexcept = default;
log_reader& log_reader::operator=(log_reader&&) noexcept = default;

log_reader::~log_reader() = default;

log_reader::iterator log_reader::begin() {
  if (!m_begun) {
    m_begun = true;
    m_file->merge = std::make_unique<detail::merged_scan>(m_file->state);
    m_report = m_file->state.report.get();
    next_run();
  }
  return iterator{this};
}

// The next record, and behind it the run of records the merge lets through straight, which
// the iterator then steps through inline.
void log_reader::next_run() {
  m_at = 0;
  m_count = 0;
  const detail::rec* r = m_file->merge->next();
  if (r == nullptr) {
    m_done = true;
    return;
  }
  m_run[0].time = time_point{duration{r->time}};
  m_run[0].value = log_record{r->stream, std::string_view(r->payload, r->size), r->offset, r->file};
  m_count = 1 + m_file->merge->run(m_run + 1, run_size - 1);
  ++m_report->records;
}

const std::vector<log_stream>& log_reader::streams() const noexcept {
  return m_file->state.set->streams;
}
const std::string& log_reader::creator() const noexcept {
  return m_file->state.set->creator;
}
std::uint16_t log_reader::stream_id(std::string_view name) const {
  return m_file->state.set->stream_id(name);
}
std::vector<std::string> log_reader::files() const {
  std::vector<std::string> paths;
  for (const detail::log_set::member& m : m_file->state.set->files) paths.push_back(m.path);
  return paths;
}
std::shared_ptr<const log_report> log_reader::report() const noexcept {
  return m_file->state.report;
}
const std::string& log_reader::path() const noexcept {
  return m_file->state.set->name;
}
std::optional<std::pair<time_point, time_point>> log_reader::time_range() const {
  const auto range = m_file->state.set->time_range();
  if (!range) return std::nullopt;
  return std::pair{time_point{duration{range->first}}, time_point{duration{range->second}}};
}
const std::string& log_reader::file(std::uint32_t index) const {
  return m_file->state.set->files.at(index).path;
}

log_file::log_file(std::string path, log_read_options options)
    : m_scan(detail::open_shared({std::move(path)}, std::move(options))) {}
log_file::log_file(std::vector<std::string> paths, log_read_options options)
    : m_scan(detail::open_shared(std::move(paths), std::move(options))) {}

const std::vector<log_stream>& log_file::streams() const noexcept {
  return detail::shared_streams(*m_scan);
}
const std::string& log_file::creator() const noexcept {
  return detail::shared_creator(*m_scan);
}
std::shared_ptr<const log_report> log_file::report() const noexcept {
  return detail::shared_report(*m_scan);
}
const std::string& log_file::path() const noexcept {
  return detail::shared_path(*m_scan);
}

}  // namespace asp::data

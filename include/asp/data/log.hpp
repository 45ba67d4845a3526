#pragma once

// The record log (.asplog): an append-only file of timestamped records from one or more
// streams, written while a program runs live and read back later as the past.
//
// Layout (docs/record-log.md has the details; src/data/log_format.hpp the constants):
//   - a text header: "ASPLOG 1", the creator, each stream's name and schema, and a CRC;
//   - records: u32 body size, u32 CRC-32C of the body, then the body: i64 event time (ns since
//     the epoch), u16 stream id, payload bytes;
//   - a time index beside it, FILE.idx: one fixed-size, checksummed entry per chunk of records
//     (offsets, first and last times). Readers binary-search it to seek; when it is missing or
//     torn they rebuild it in memory by scanning. Nothing is written only at close: a recorder
//     killed at any moment leaves a file whose complete records all read back.

#include <asp/data/codec.hpp>
#include <asp/error.hpp>
#include <asp/event.hpp>
#include <asp/pull_iterator.hpp>
#include <asp/time.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace asp::data {

/// A stream of a record log: its name and a schema string that says what its payloads hold
/// (free text to the log; the `asp` tool writes its column list there).
struct log_stream {
  std::string name;
  std::string schema{};

  friend bool operator==(const log_stream&, const log_stream&) = default;
};

/// When a writer makes what it wrote durable (fdatasync). A record is *acknowledged* once an
/// fsync covers it; `close()` always syncs. Both limits may be set; none means on close only.
struct fsync_policy {
  /// Sync after this many records (1: every record); 0: no limit by count.
  std::size_t every_records = 0;
  /// Sync at the first write once this much real time has passed since the last sync; zero:
  /// no limit by time. (A writer has no thread: call `sync()` from a timer for a quiet stream.)
  std::chrono::nanoseconds every = std::chrono::nanoseconds::zero();
};

/// When a writer ends one file of a dataset and goes on in the next (as rosbag2's
/// --max-bag-size and --max-bag-duration). Both limits may be set; none: one file.
struct split_policy {
  /// End a file before a record would take it past this many bytes (the header and records;
  /// a compressed chunk in progress counts uncompressed). A file holds at least one record.
  std::uint64_t bytes = 0;
  /// End a file before a record whose event time is this much or more after the file's first
  /// record's.
  std::chrono::nanoseconds duration = std::chrono::nanoseconds::zero();

  bool splits() const noexcept {
    return bytes != 0 || duration != std::chrono::nanoseconds::zero();
  }
};

/// Records per chunk of the time index: a writer's default, and what a reader that rebuilds a
/// missing index uses.
inline constexpr std::size_t default_chunk_records = 4096;

/// How a log is written.
struct log_writer_options {
  /// Written into the header: who made the file.
  std::string creator = "asp";
  fsync_policy fsync{};
  /// Records per chunk of the time index (and bytes buffered before a write(2)).
  std::size_t chunk_records = default_chunk_records;
  std::size_t buffer_bytes = std::size_t{1} << 16;
  /// Replace an existing file (otherwise creating over one fails).
  bool overwrite = false;
  /// Compress each chunk with zstd at this level (1 to 19; 0: no compression). A compressed
  /// chunk is written whole when it ends — when it is full, at every sync and at close — so
  /// its records are handed to the system, and acknowledged, together.
  int zstd_level = 0;
  /// Write a dataset: the writer's path is then a directory (made if missing; one that holds
  /// logs already is refused, or emptied of them with `overwrite`), of files 00000000.asplog,
  /// 00000001.asplog, ... in order. Each file is synced and closed before the next is made, so
  /// a rotation acknowledges every record written; a file appears under its name only once
  /// its header is durable, so a writer killed at any moment leaves a dataset whose files all
  /// read back (log_reader reads the directory as one log).
  split_policy split{};
};

/// Appends records to a new record log, or to a dataset of them (log_writer_options::split). Not
/// thread-safe: one writer, one thread (the loop's). Errors (cannot create, disk full, permission
/// denied) throw std::system_error naming the file and how many records are acknowledged; what was
/// acknowledged stays readable, and a writer that failed refuses further writes.
class log_writer {
 public:
  /// Creates `path` (and `path`.idx) with `streams` (ids are their positions, at most 65535);
  /// when splitting, the dataset directory `path` and its first file.
  log_writer(std::string path, std::vector<log_stream> streams, log_writer_options options = {});
  log_writer(log_writer&&) noexcept;
  log_writer& operator=(log_writer&&) noexcept;
  /// Closes (and syncs) if still open; errors are then swallowed — call close() to see them.
  ~log_writer();

  /// Appends one record of stream `stream` at `time` with `payload`.
  void write(std::uint16_t stream, time_point time, std::string_view payload);

  /// Appends `value` encoded by codec<T>.
  template <class T>
  void write_value(std::uint16_t stream, time_point time, const T& value) {
    m_scratch.clear();
    codec<T>::encode(value, m_scratch);
    write(stream, time, m_scratch);
  }

  /// Hands every buffered record to the operating system (a killed process loses nothing
  /// written before; a crash of the machine may).
  void flush();
  /// Flushes and fdatasyncs: every record written so far is acknowledged.
  void sync();
  /// Syncs and closes. Idempotent.
  void close();

  /// The id of the stream named `name`; throws std::invalid_argument when there is none.
  std::uint16_t stream_id(std::string_view name) const;

  std::uint64_t written() const noexcept;       ///< records written
  std::uint64_t acknowledged() const noexcept;  ///< records covered by an fsync
  /// When the last fsync of records happened (the system clock), if one has.
  std::optional<time_point> last_sync() const noexcept;
  /// The file, or the dataset's directory.
  const std::string& path() const noexcept;
  /// The file being written (of a dataset, its latest).
  const std::string& file() const noexcept;
  /// Files made: 1, or more for a dataset.
  std::uint64_t files() const noexcept;

 private:
  struct state;
  std::unique_ptr<state> m_state;
  std::string m_scratch;
};

/// What a file's first bytes say it is, for a tool that takes a log or a CSV file.
enum class file_kind {
  record_log,          ///< it starts with the log's magic, `ASPLOG `
  damaged_record_log,  ///< a log's header with its magic damaged (most of it, or its lines)
  binary,              ///< a NUL byte: neither a log nor a CSV file
  text,                ///< anything else: perhaps CSV
};
/// Looks at the first bytes of a file (64 KiB are plenty).
file_kind sniff(std::string_view first_bytes) noexcept;

/// What a reader does with a corrupt record in the middle of a file (a torn tail is never an
/// error: it is reported, and every complete record before it is delivered).
enum class corrupt_records {
  fail,  ///< throw asp::input_error with its offset
  skip,  ///< skip to the next valid record and count
};

/// Where a reader reads, checks and decompresses the file.
///
/// A thread of its own pays where a second physical core is there for it: one stream replayed
/// 1.35 to 1.6 times faster, warm, on two cores, and no slower from the disk. Where the
/// process's CPUs are one core's hyperthreads it was measured 1.7 times slower, and there the
/// reading thread is best: the kernel's own read-ahead (the file is read sequentially, and
/// says so) already overlaps the disk with the work (BENCHMARKS.md).
enum class read_ahead {
  /// `thread` when the CPUs the process may run on hold two or more physical cores (as Linux's
  /// /sys/devices/system/cpu topology tells) and its cgroup's CPU limit, if any, allows two
  /// CPUs; `none` otherwise or when it cannot tell.
  automatic,
  none,    ///< on the reading thread, a block at a time, when asked
  thread,  ///< on a thread of its own, up to eight blocks ahead
};

/// How a log is read.
struct log_read_options {
  /// Only records at or after `start`, found by binary search in the time index.
  std::optional<time_point> start{};
  /// Only records at or before `end`.
  std::optional<time_point> end{};
  /// Only these streams, by name (empty: all). An unknown name is an error.
  std::vector<std::string> streams{};
  corrupt_records on_corrupt = corrupt_records::fail;
  /// Where reading, CRC checks and decompression run (see read_ahead).
  read_ahead ahead = read_ahead::automatic;
  /// How many records one scan may hold for streams whose turn has not come (several streams
  /// of a file whose times interleave out of file order; the typed sources of a log_file)
  /// before the stream it waits for gets a scan of its own: bounds the memory whatever the
  /// file holds. Each held record costs about 64 bytes and keeps its block of the file.
  std::size_t max_held = std::size_t{1} << 20;
};

/// How a reader found the time index.
enum class index_state {
  complete,  ///< FILE.idx covered the whole file
  partial,   ///< FILE.idx was torn or behind: the rest was found by scanning
  missing,   ///< no usable FILE.idx: the index was rebuilt by scanning
  stale,     ///< FILE.idx belongs to another log (a header or a first record differs): ignored,
             ///< the index rebuilt by scanning
};

/// The end of a file cut in the middle of a record (a writer killed mid-write).
struct torn_tail {
  std::uint64_t offset;  ///< where the incomplete record starts
  std::uint64_t bytes;   ///< from there to the end of the file
  std::string file{};    ///< the file (of a dataset, the last one found torn)
};

/// What a reader found; shared, so it can be read after the reader was moved into a stream.
struct log_report {
  std::uint64_t records = 0;          ///< records delivered
  std::uint64_t corrupt_skipped = 0;  ///< corrupt records skipped (corrupt_records::skip)
  std::optional<torn_tail> torn{};    ///< set once the reader reaches a torn tail
  index_state index = index_state::complete;
  std::uint64_t chunks = 0;  ///< chunks in the index
};

/// One record as read: its stream, its payload and where it is: its file (the index in the
/// reader's files(): 0 for a single log) and its offset there (for a record of a compressed
/// chunk, the chunk's). The payload views the reader's buffer, valid until the reader moves on
/// to the next record.
struct log_record {
  std::uint16_t stream = 0;
  std::string_view payload{};
  std::uint64_t offset = 0;
  std::uint32_t file = 0;
};

namespace detail {
struct reader_impl;
struct shared_scan;

/// A record as a log_file's typed source receives it.
struct shared_record {
  std::int64_t time = 0;
  std::string_view payload{};
  std::uint64_t offset = 0;
  std::uint32_t file = 0;
};

std::shared_ptr<shared_scan> open_shared(std::vector<std::string> paths, log_read_options options);
std::uint16_t shared_add(shared_scan& scan, std::string_view stream);
bool shared_next(shared_scan& scan, std::uint16_t stream, shared_record& out);
const std::string& shared_path(const shared_scan& scan) noexcept;
const std::string& shared_file(const shared_scan& scan, std::uint32_t file) noexcept;
const std::vector<log_stream>& shared_streams(const shared_scan& scan) noexcept;
const std::string& shared_creator(const shared_scan& scan) noexcept;
std::shared_ptr<const log_report> shared_report(const shared_scan& scan) noexcept;

/// The physical cores among `cpus`: their distinct (physical_package_id, core_id) pairs in
/// SYS_CPU_DIR/cpuN/topology/ (Linux's /sys/devices/system/cpu). 1 when a CPU's pair cannot
/// be read.
std::size_t physical_cores(const std::string& sys_cpu_dir, const std::vector<int>& cpus);
/// The CPUs' worth of time a cgroup (version 2) lets its processes use, from its cpu.max file
/// ("QUOTA PERIOD"): QUOTA / PERIOD; infinity for "max", or when there is no such file or it
/// cannot be read.
double cgroup_cpu_limit(const std::string& cpu_max);
/// What read_ahead::automatic chooses on this machine for this process (decided once).
bool read_ahead_pays();
}  // namespace detail

/// A record log, or a dataset of them, as a past source of `asp::event<log_record>`: the
/// records of the chosen streams merged in (time, record order), from `start` to `end`.
///
/// Opening reads the header and the time index (or rebuilds it). The records are read in one
/// scan of the file, in file order, whatever the number of streams: a file in time order
/// streams straight through, and streams whose times interleave out of file order are merged
/// exactly, in bounded memory (log_read_options::max_held). Reading, checking and
/// decompressing can run ahead on a thread of their own (log_read_options::ahead).
///
/// A *dataset* — a directory of logs (its `*.asplog` files in the order of their names: what a
/// writer that splits makes), or a list of logs — reads as the one log its files make one
/// after another: a recording split at any record reads exactly as it would unsplit. Streams
/// are matched by name across the files (a name must keep its schema). Seeking by `start`
/// skips whole files by their time index; only the files being read are open.
///
/// Errors are asp::input_error naming the file and the offset.
class log_reader {
 public:
  /// Reads the log `path`, or the dataset in the directory `path`.
  explicit log_reader(std::string path, log_read_options options = {});
  /// Reads the logs `paths` (a directory among them stands for its logs) as one dataset.
  explicit log_reader(std::vector<std::string> paths, log_read_options options = {});
  log_reader(log_reader&&) noexcept;
  log_reader& operator=(log_reader&&) noexcept;
  ~log_reader();

  using value_type = event<log_record>;

  using iterator = asp::pull_iterator<log_reader, event<log_record>>;

  /// Reads the first record (once).
  iterator begin();
  std::default_sentinel_t end() const noexcept { return {}; }

  /// The file's streams, by id.
  const std::vector<log_stream>& streams() const noexcept;
  /// The header's creator.
  const std::string& creator() const noexcept;
  /// The id of the stream named `name`; throws asp::input_error when there is none.
  std::uint16_t stream_id(std::string_view name) const;
  /// Records delivered, corrupt records skipped, the torn tail, the index's state (of a
  /// dataset: the worst of its files').
  std::shared_ptr<const log_report> report() const noexcept;
  /// The file or directory given (for a list, its first entry).
  const std::string& path() const noexcept;
  /// The earliest and latest event times in the file or dataset (every stream, whatever
  /// `start`, `end` and `streams` select), from the time index: no read of the records.
  /// std::nullopt when it holds no record, or when a file's tail is not indexed (a torn tail).
  std::optional<std::pair<time_point, time_point>> time_range() const;
  /// The files read, in order (one for a single log).
  std::vector<std::string> files() const;
  /// The file log_record::file names.
  const std::string& file(std::uint32_t index) const;

 private:
  friend iterator;
  const event<log_record>& current() const noexcept { return m_run[m_at]; }
  // Inline within a run of records the merge let through; the next run out of line.
  void advance() {
    if (++m_at < m_count) {
      ++m_report->records;
    } else {
      next_run();
    }
  }
  bool at_end() const noexcept { return m_done; }
  void next_run();

  static constexpr std::size_t run_size = 32;

  std::unique_ptr<detail::reader_impl> m_file;
  log_report* m_report = nullptr;  // m_file's, counted as records are delivered
  // The record at hand and the ones behind it that the merge let through (m_run[m_at], of
  // m_count): their payloads stay valid until advance() reads on.
  event<log_record> m_run[run_size]{};
  std::size_t m_at = 0;
  std::size_t m_count = 0;
  bool m_begun = false;
  bool m_done = false;
};

template <class T>
class shared_log_source;

/// A record log opened once, handing out a typed past source per stream that all share one
/// scan of the file: K streams of one file cost one read, one CRC check and one decompression
/// of each chunk, however the loop interleaves them.
///
/// ```cpp
/// asp::data::log_file day("day.asplog");
/// asp::run({}, asp::process_stream(on_trade, day.source<trade>("AAPL")),
///              asp::process_stream(on_quote, day.source<quote>("MSFT")));
/// ```
///
/// A source joins the shared scan when it is made, or later while the scan has not gone past
/// any record of its stream (so starting streams one after another shares too); otherwise it
/// reads with a scan of its own. While the loop takes one stream's records, the scan holds the
/// others' (up to log_read_options::max_held records in all; past that, the stream it reads
/// for gets a scan of its own). Not thread-safe: the sources are read on one thread.
class log_file {
 public:
  /// Opens `path` (a log, or a dataset's directory): reads its header and its time index (or
  /// rebuilds it). `options.streams` is not used: the sources choose the streams.
  explicit log_file(std::string path, log_read_options options = {});
  /// Opens the logs `paths` as one dataset (see log_reader).
  explicit log_file(std::vector<std::string> paths, log_read_options options = {});

  /// A past source of `asp::event<T>` for the stream named `stream`, each payload decoded by
  /// codec<T>. Throws asp::input_error when the file has no such stream, std::logic_error
  /// when the stream already has a source.
  template <class T>
  shared_log_source<T> source(std::string_view stream) {
    return shared_log_source<T>(m_scan, detail::shared_add(*m_scan, stream));
  }

  /// The file's streams, by id.
  const std::vector<log_stream>& streams() const noexcept;
  /// The header's creator.
  const std::string& creator() const noexcept;
  /// Records delivered to all sources, corrupt records skipped, the torn tail, the index.
  std::shared_ptr<const log_report> report() const noexcept;
  const std::string& path() const noexcept;

 private:
  std::shared_ptr<detail::shared_scan> m_scan;
};

/// One stream of a log_file as a past source of `asp::event<T>` (see log_file::source).
template <class T>
class shared_log_source {
 public:
  using iterator = asp::pull_iterator<shared_log_source, event<T>>;

  /// Reads the first record (once).
  iterator begin() {
    if (!m_begun) {
      m_begun = true;
      advance();
    }
    return iterator{this};
  }
  std::default_sentinel_t end() const noexcept { return {}; }
  /// Whether the stream's last record has been read.
  bool done() const noexcept { return m_done; }

 private:
  friend class log_file;
  shared_log_source(std::shared_ptr<detail::shared_scan> scan, std::uint16_t stream)
      : m_scan(std::move(scan)), m_stream(stream) {}

  friend iterator;
  const event<T>& current() const noexcept { return m_current; }
  bool at_end() const noexcept { return m_done; }

  void advance() {
    detail::shared_record r;
    if (!detail::shared_next(*m_scan, m_stream, r)) {
      m_done = true;
      return;
    }
    try {
      m_current = event<T>{time_point{duration{r.time}}, codec<T>::decode(r.payload)};
    } catch (const std::exception& e) {
      throw input_error(detail::shared_file(*m_scan, r.file) + ": record at offset " +
                        std::to_string(r.offset) + " of stream '" +
                        detail::shared_streams(*m_scan)[m_stream].name +
                        "': cannot decode: " + e.what());
    }
  }

  std::shared_ptr<detail::shared_scan> m_scan;
  std::uint16_t m_stream;
  event<T> m_current{};
  bool m_begun = false;
  bool m_done = false;
};

/// One stream of a record log as a past source of `asp::event<T>`, each payload decoded by
/// codec<T>: what was recorded, read back as the past.
template <class T>
class log_source {
 public:
  /// Reads the stream named `stream` of `path`, a log or a dataset's directory
  /// (options.streams is replaced by it).
  log_source(std::string path, std::string stream, log_read_options options = {})
      : m_reader(std::move(path), with_stream(std::move(options), std::move(stream))) {}

  using iterator = asp::pull_iterator<log_source, event<T>>;

  /// Reads the first record (once).
  iterator begin() {
    if (!m_begun) {
      m_begun = true;
      decode(m_reader.begin());
    }
    return iterator{this};
  }
  std::default_sentinel_t end() const noexcept { return {}; }

  std::shared_ptr<const log_report> report() const noexcept { return m_reader.report(); }
  const log_reader& reader() const noexcept { return m_reader; }

 private:
  static log_read_options with_stream(log_read_options options, std::string stream) {
    options.streams = {std::move(stream)};
    return options;
  }
  friend iterator;
  const event<T>& current() const noexcept { return m_current; }
  void advance() {
    log_reader::iterator it{&m_reader};
    ++it;
    decode(it);
  }
  bool at_end() noexcept { return log_reader::iterator{&m_reader} == std::default_sentinel; }
  void decode(const log_reader::iterator& it) {
    if (it == std::default_sentinel) return;
    try {
      m_current = event<T>{it->time, codec<T>::decode(it->value.payload)};
    } catch (const std::exception& e) {
      throw input_error(m_reader.file(it->value.file) + ": record at offset " +
                        std::to_string(it->value.offset) + " of stream '" +
                        m_reader.streams()[it->value.stream].name +
                        "': cannot decode: " + e.what());
    }
  }

  log_reader m_reader;
  event<T> m_current{};
  bool m_begun = false;
};

}  // namespace asp::data

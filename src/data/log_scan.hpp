#pragma once

// One pass over a record log, in file order: the part of reading that every reader shares.
//
// A scan reads the file in pieces of about a megabyte (whole chunks of the time index where
// there is one) with pread into reused buffers, checks every record's CRC, decompresses
// compressed chunks, and lists the records of the selected streams in a block. With read-ahead
// it does all of that on a thread of its own, a few blocks ahead of the loop's thread, which
// then only merges, decodes and calls back. Every record carries a lower bound on the time of
// every record the scan yields after it (from the rest of its block and the index's earliest
// times), which is what lets one scan feed a time-ordered merge of many streams exactly.
//
// A scan reads a log_set: one file, or the files of a dataset one after another, as if they
// were one file (a dataset split at any record reads exactly as the file it was split from).

#include <asp/data/log.hpp>

#include "log_format.hpp"

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace asp::data::detail {

/// An open record log: its header and time index, read once when it is opened, and the
/// descriptor that scans read with pread. Read-only after opening; shared by every scan of the
/// file (a reader's, typed sources', a read-ahead thread's).
struct log_layout {
  log_layout() = default;
  log_layout(const log_layout&) = delete;
  log_layout& operator=(const log_layout&) = delete;
  ~log_layout();

  /// Opens `path`, reads its header and its index (or rebuilds the index by scanning).
  static std::shared_ptr<const log_layout> open(std::string path);

  /// Where reading starts for `start`: the first chunk that may hold a record at or after it.
  std::uint64_t start_offset(std::optional<std::int64_t> start) const;
  /// Reads up to `n` bytes at `offset`; returns how many it read (fewer at the end of the file,
  /// and where the file shrank). Throws asp::input_error on an I/O error.
  std::size_t read(std::uint64_t offset, char* into, std::size_t n) const;
  /// The first offset at or after `from` where a whole, valid record starts.
  std::optional<std::uint64_t> resync(std::uint64_t from) const;
  /// A lower bound on the time of every record at or after `offset`, a record boundary.
  std::int64_t earliest_from(std::uint64_t offset) const;
  /// The index of the chunk that holds `offset`, or of the first one after it (chunks.size()
  /// past the last).
  std::size_t chunk_from(std::uint64_t offset) const;

  std::string path;
  int fd = -1;
  std::uint64_t size = 0;
  std::string creator;
  int version = format_version;  // 2: compressed chunks hold time differences and no CRCs
  std::vector<log_stream> streams;
  std::uint64_t first_record = 0;
  std::vector<chunk> chunks;
  std::vector<std::int64_t> prefix_max;  // the running maximum of the chunks' latest times
  std::vector<std::int64_t> suffix_min;  // the earliest time from chunk k on (one entry more)
  std::uint64_t indexed_end = 0;         // where the index (read or rebuilt) stops
  index_state index = index_state::complete;
};

/// The files a reader reads as one past, in order: one record log, or a dataset (a directory
/// of logs, or a list of them). Opening reads every file's header and time index; a file's
/// layout is then opened again when a scan reaches it, so that a dataset of many files keeps
/// the descriptors of the files being read only. Read on one thread.
struct log_set {
  /// A file of the set: what a reader needs before it reads the file's records.
  struct member {
    std::string path;
    std::vector<std::uint16_t> ids;  // the file's stream ids, as the set's
    std::int64_t min_time = 0;       // no record of the file is earlier (lowest: unknown)
    std::int64_t max_time = 0;       // nor later (highest: unknown)
    bool empty = false;              // it holds no record
    index_state index = index_state::complete;
    std::uint64_t chunks = 0;
    std::shared_ptr<const log_layout> kept;        // kept open: a single file, a rebuilt index
    mutable std::weak_ptr<const log_layout> open;  // while a scan reads it
  };

  /// The given files in the given order; a directory stands for its *.asplog files in the
  /// order of their names.
  static std::shared_ptr<const log_set> open(std::vector<std::string> paths);

  /// The layout of file `k`, opened if no scan holds it.
  std::shared_ptr<const log_layout> layout(std::size_t k) const;
  /// The id of the stream named `name`; throws asp::input_error naming the set's streams.
  std::uint16_t stream_id(std::string_view name) const;
  /// The earliest and latest record times of every file, from the time indexes; std::nullopt
  /// when the set holds no record or a file's end is not indexed.
  std::optional<std::pair<std::int64_t, std::int64_t>> time_range() const;

  std::string name;  // the file or directory given; for a list, its first entry
  std::vector<member> files;
  std::vector<log_stream> streams;     // by name across the files, in order of appearance
  std::string creator;                 // the first file's
  std::vector<std::int64_t> from_min;  // the earliest time in files k and after (one more)
};

/// A record as a scan yields it, or a problem found on the way (stream == problem_stream).
struct rec {
  std::int64_t time = 0;
  std::int64_t rest_min = 0;  // no record the scan yields after this one is earlier
  const char* payload = nullptr;
  std::uint64_t offset = 0;  // in the file; a compressed chunk's for the records in it
  std::uint32_t size = 0;    // payload bytes; for a problem, its place in block::problems
  std::uint32_t inner = 0;   // 1 + the record's place in its compressed chunk; 0 outside one
  std::uint16_t stream = 0;  // the set's id
  std::uint32_t file = 0;    // the file of the set it is in
};
constexpr std::uint16_t problem_stream = 0xFFFF;

/// What a scan found that is not a record.
struct problem {
  enum class kind {
    corrupt,  ///< a bad record in the middle: `detail` says what, and where the scan goes on
    torn,     ///< a torn tail: the scan ends
    fatal,    ///< the file cannot be read on (an I/O error, an index that lies): `detail` says
  };
  kind what = kind::corrupt;
  std::uint64_t offset = 0;
  std::uint64_t bytes = 0;  // torn: from `offset` to the end of the file
  std::string detail;
};

class block_stream;

/// A piece of the file, scanned: its bytes, its decompressed chunks and its records.
struct block {
  std::string bytes;
  std::vector<std::string> inflated;
  std::size_t inflated_used = 0;
  // The records: the first `count` of `recs` (which only grows, so that a block reused costs
  // no allocation and no initialisation).
  std::vector<rec> recs;
  std::size_t count = 0;

  /// The next record's place, to be written in place: filled field by field from the frame,
  /// then copied whole, a record would be read back before its stores had landed.
  rec& add() {
    if (count == recs.size()) recs.resize(recs.size() * 2 + 256);
    return recs[count++];
  }
  std::vector<problem> problems;
  bool last = false;       // nothing follows it
  std::uint32_t refs = 0;  // on the consumer's side: the scan and every retained record
  block_stream* owner = nullptr;
};

/// Which records a scan yields, and from where.
struct scan_plan {
  std::vector<bool> streams;            // by the set's id: selected
  std::optional<std::int64_t> start{};  // records before it are skipped
  std::optional<std::int64_t> end{};    // files whose records all come after it are not read
  std::uint32_t file = 0;               // the file of the set to start in
  // Records at or before this position of `file` were yielded by another scan (a stream
  // detached from a shared scan goes on with a scan of its own after the shared one's last
  // record).
  std::uint64_t after_offset = 0;
  std::uint32_t after_inner = 0;
  bool skip_through = false;
  bool read_ahead = false;  // on a thread of its own
};

/// How one file is scanned (made from a scan_plan by the record_scan).
struct file_plan {
  std::vector<bool> streams;       // by the file's id: selected
  std::vector<std::uint16_t> ids;  // the file's ids, as the set's
  std::optional<std::int64_t> start{};
  std::uint64_t from = 0;  // the offset to start at
  std::uint64_t after_offset = 0;
  std::uint32_t after_inner = 0;
  bool skip_through = false;
  bool read_ahead = false;
  std::uint32_t file = 0;                                             // its place in the set
  std::int64_t later_min = std::numeric_limits<std::int64_t>::max();  // nothing after is earlier
};

/// Makes blocks: reads, checks, decompresses and lists (on whichever thread calls it).
class block_maker {
 public:
  block_maker(std::shared_ptr<const log_layout> layout, file_plan plan);
  block_maker(block_maker&&) noexcept;
  ~block_maker();
  /// Fills `b` with the next piece of the file; sets b.last when nothing follows it.
  void make(block& b);

 private:
  struct state;
  std::unique_ptr<state> m_state;
};

/// Blocks in file order, made on a read-ahead thread (a few blocks ahead) or on demand.
class block_stream {
 public:
  block_stream(std::shared_ptr<const log_layout> layout, file_plan plan);
  block_stream(const block_stream&) = delete;
  block_stream& operator=(const block_stream&) = delete;
  ~block_stream();

  /// The next block, held once (refs = 1); nullptr after the last.
  block* next();
  /// Drops one hold on `b`; the last makes it free for reuse.
  void release(block* b);
  /// Blocks handed out by next() and not yet free.
  std::size_t out() const noexcept { return m_out; }

 private:
  void produce();
  // A free block, or a new one (under the lock when threaded).
  block* take_free();

  block_maker m_maker;
  bool m_threaded;
  bool m_ended = false;
  std::size_t m_out = 0;
  std::vector<std::unique_ptr<block>> m_all;  // every block made, owned here
  std::mutex m_mutex;
  std::condition_variable m_ready_cv;
  std::condition_variable m_room_cv;
  std::deque<block*> m_ready;
  std::vector<block*> m_free;
  bool m_consumer_waits = false;
  bool m_producer_waits = false;
  bool m_stop = false;
  std::thread m_thread;
};

/// The records and problems of one scan of a set, in file order, file after file.
class record_scan {
 public:
  record_scan(std::shared_ptr<const log_set> set, scan_plan plan);
  record_scan(const record_scan&) = delete;
  record_scan& operator=(const record_scan&) = delete;
  ~record_scan();

  /// The next record or problem, nullptr at the end. Valid while its block is held: until the
  /// next call, or longer with retain().
  const rec* next() {
    for (;;) {
      if (m_block != nullptr) {
        if (m_i < m_block->count) return &m_block->recs[m_i++];
        const bool last = m_block->last;
        release(std::exchange(m_block, nullptr));
        if (last) end_file();
      }
      if (m_ended) return nullptr;
      if (!m_blocks && !open_file()) {
        m_ended = true;
        return nullptr;
      }
      m_block = m_blocks->next();
      if (m_block == nullptr) {
        end_file();
        continue;
      }
      m_i = 0;
    }
  }

  /// The record next() would return, when it is in the block at hand (whose records stay
  /// valid until next() moves past it); nullptr at the block's end.
  const rec* peek_in_block() const noexcept {
    return m_block != nullptr && m_i < m_block->count ? &m_block->recs[m_i] : nullptr;
  }
  /// Takes the record peek_in_block() showed.
  void skip_peeked() noexcept { ++m_i; }

  /// The block of the record next() returned last; hold it while the record is kept.
  block* current() const noexcept { return m_block; }
  /// The problem a problem record stands for.
  const problem& problem_of(const rec& r) const { return m_block->problems[r.size]; }
  void retain(block* b) noexcept { ++b->refs; }
  void release(block* b) { b->owner->release(b); }
  /// Where the scan is: the record or problem next() returned last (call it only while that
  /// is held, not after the end).
  const rec& last() const noexcept { return m_block->recs[m_i - 1]; }

 private:
  // Starts on the next file with anything to read; false when there is none.
  bool open_file();
  // The file's blocks are over: they stay until the records held from them are dropped.
  void end_file();

  std::shared_ptr<const log_set> m_set;
  scan_plan m_plan;
  std::uint32_t m_next_file = 0;
  std::unique_ptr<block_stream> m_blocks;
  std::vector<std::unique_ptr<block_stream>> m_over;  // files read, with blocks still held
  block* m_block = nullptr;
  std::size_t m_i = 0;
  bool m_ended = false;
};

}  // namespace asp::data::detail

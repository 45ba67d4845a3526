#pragma once

// The `asp` command-line tool: record live input into a record log, play a log or a CSV file
// through the loop, inspect a file, convert between CSV and logs. Each command has its file;
// this header has what they share.

#include "arguments.hpp"

#include <asp/asio/metrics.hpp>
#include <asp/data/log.hpp>
#include <asp/data/shown.hpp>
#include <asp/data/table.hpp>
#include <asp/data/time_text.hpp>
#include <asp/generator.hpp>
#include <asp/time.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace asp::tool {

/// How a CSV file given to the tool is read (no code: names, formats and types from options).
struct csv_input_options {
  data::csv_options read{};  // the time column and its format, the delimiter
  std::string schema{};      // NAME:TYPE,... ; empty: inferred
};

/// A file to play, inspect or convert: a record log or a CSV file, as records of its streams.
/// A CSV file is one stream, named after the file, whose schema is its table schema.
struct input {
  std::string path;
  bool is_log = false;
  std::vector<std::string> files{};  // a log's files: one, or a dataset's
  std::string creator{};
  std::vector<data::log_stream> streams;
  asp::generator<const event<data::log_record>&> records;
  std::shared_ptr<const data::log_report> log_report{};
  /// A log's earliest and latest event times, from its index (std::nullopt for CSV).
  std::optional<std::pair<time_point, time_point>> range{};
  std::shared_ptr<const data::csv_report> csv_report{};
  /// "FILE:LINE" of a CSV file's record last read (empty for a log).
  std::function<std::string()> where{};
};

/// Opens `path` (a log if it starts like one, else CSV), reading records from `start` to `end`.
input open_input(const std::string& path, const csv_input_options& csv,
                 std::optional<time_point> start = {}, std::optional<time_point> end = {},
                 bool skip_bad = false);

/// Says on stderr what a log's reader found and left (a torn tail), whatever --quiet says: the
/// exit status stays 0, the data up to it was all read.
void report_torn_tail(const input& in);

/// The time of a file's first record, or std::nullopt when it has none.
std::optional<time_point> first_time(const std::string& path, const csv_input_options& csv);

/// `3723.5s` as `1h02m03.5s`, for people.
std::string human(duration d);

/// One record as text: a table row's fields, or the payload itself.
struct formatter {
  /// Throws asp::input_error naming `path` and the stream when a stream's table schema is bad.
  formatter(const std::vector<data::log_stream>& streams, const std::string& path);
  /// The CSV header line for `csv` output (time, then the stream's columns; a `stream` column
  /// when there are several streams; `payload` for streams that are not tables).
  std::string csv_header() const;
  std::string csv(const event<data::log_record>& e);
  std::string json(const event<data::log_record>& e);
  std::string raw(const event<data::log_record>& e);
  /// Whether a stream holds recorded NATS messages.
  bool is_nats(std::size_t stream) const { return m_nats[stream]; }

 private:
  std::vector<data::log_stream> m_streams;
  std::vector<std::optional<data::table_schema>> m_tables;
  std::vector<bool> m_nats;  // per stream: recorded NATS messages (nats_record.hpp)
  bool m_one_table = false;
  bool m_all_nats = false;
  std::vector<std::string> m_fields;
};

/// A line on stderr, redrawn 10 times a second from a thread of its own while a long command
/// runs, and drawn a last time (and kept) when it ends: the position in virtual time / the end,
/// the percent of the range, events, events/s, elapsed real time, the ETA while the end is
/// known, and the lag behind schedule under pacing (as rosbag2's). Only on a terminal (and not
/// with --quiet).
class progress {
 public:
  progress(bool enabled, std::optional<time_point> from, std::optional<time_point> to,
           std::optional<double> rate);
  ~progress();
  progress(const progress&) = delete;
  progress& operator=(const progress&) = delete;
  /// From the loop's thread, for each event.
  void event(time_point t) noexcept;
  /// Stops redrawing and draws the line a last time, then a newline.
  void finish();
  std::uint64_t events() const noexcept;

 private:
  struct state;
  std::unique_ptr<state> m_state;
};

// The commands, each in its own file; they return the process's exit status.

struct record_options {
  std::string
      from;  // tcp://HOST:PORT, udp://[ADDRESS]:PORT, ws://..., wss://..., stdin, nats://...
  std::string start{};            // nats: TIME | seq:N | new; default the stream's first message
  std::string start_tolerance{};  // nats: the producers' skew, for a start time (DURATION)
  bool history = false;           // nats: stop once caught up
  std::string out;                // FILE.asplog
  std::string fsync = "1s";       // every | N (records) | DURATION | close
  std::string stream{};           // the stream's name; default: the input's kind
  int zstd = 0;                   // compress chunks at this level; 0: no
  std::string split_size{};       // a dataset: a new file past this size (100M, 1G)
  std::string split_duration{};   // or past this much event time (1h)
  bool overwrite = false;
  bool quiet = false;
  std::string metrics{};  // [ADDRESS]:PORT: serve Prometheus metrics there
};
int run_record(const record_options& options);

struct play_options {
  std::string file;
  std::string rate = "max";  // max | a positive factor
  std::string start{};       // TIME | +OFFSET
  std::string end{};
  std::string to = "stdout";  // stdout | tcp-server://[ADDRESS]:PORT | udp://HOST:PORT | nats://...
  std::string format{};       // csv | json | raw; default csv
  std::size_t clients = 0;    // tcp-server: wait for this many clients first
  std::string slow_client = "drop";  // tcp-server, ws-server: drop | block
  std::string subject{};             // a recording of NATS messages: those whose subject matches it
  csv_input_options csv{};
  bool quiet = false;
  std::string metrics{};  // [ADDRESS]:PORT: serve Prometheus metrics there
};
int run_play(const play_options& options);

/// --metrics [ADDRESS]:PORT: serves `reg` there (loopback without an ADDRESS), and says where
/// on stderr unless `quiet`. Null when `address` is empty.
std::unique_ptr<asp::metrics::server> serve_metrics(asp::metrics::registry& reg,
                                                    const std::string& address, bool quiet);

struct inspect_options {
  std::string file;
  csv_input_options csv{};
  std::size_t gaps = 3;
  std::string timeline = "auto";    // the event-rate timeline: auto (on a terminal), always, never
  std::string gap = "5s";           // the timeline marks gaps of this much or more
  std::size_t columns = 0;          // the timeline's width; 0: the terminal's (else 60)
  std::string html{};               // write the page of pictures here
  std::vector<std::string> plot{};  // numeric columns to plot on the page: NAME or STREAM:NAME
};
int run_inspect(const inspect_options& options);

struct convert_options {
  std::string in;
  std::string out;
  std::string stream{};  // log → CSV: which stream (when there are several); CSV → log: its name
  int zstd = 0;          // CSV → log: compress chunks at this level; 0: no
  std::string split_size{};  // CSV → log: a dataset, split as `asp record` splits
  std::string split_duration{};
  csv_input_options csv{};
  bool sort = false;  // CSV → log: sort the rows by time (in memory) instead of refusing
  bool overwrite = false;
  bool quiet = false;  // no progress line
};
int run_convert(const convert_options& options);

}  // namespace asp::tool

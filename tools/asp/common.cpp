// What the commands share: opening files, times and durations on the command line, formatting
// records, the progress line.
#include "tool.hpp"

#include <asp/utf8.hpp>

#include "nats_record.hpp"

#include <fmt/core.h>
#include <openssl/evp.h>

#include <unistd.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

namespace asp::tool {

namespace {

// A record log (also a damaged one: the reader says how), or a dataset's directory of them;
// false for what may be CSV. Binary bytes are neither.
bool looks_like_log(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return true;
  std::ifstream in(path, std::ios::binary);
  std::string head(65536, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<std::size_t>(in.gcount()));
  switch (data::sniff(head)) {
    case data::file_kind::record_log:
    case data::file_kind::damaged_record_log:
      return true;
    case data::file_kind::binary:
      throw input_error(path + ": not a record log or CSV file (it holds binary bytes: a NUL at " +
                        "offset " + std::to_string(head.find('\0')) + ")");
    case data::file_kind::text:
      break;
  }
  return false;
}

data::table_options table_options_of(const csv_input_options& csv, bool skip_bad) {
  data::table_options options;
  options.csv = csv.read;
  if (!csv.schema.empty()) {
    try {
      options.columns = data::table_schema::parse_columns(csv.schema);
    } catch (const std::invalid_argument& e) {
      throw usage_error(std::string("--schema: ") + e.what());
    }
  }
  if (skip_bad) options.csv.on_bad_row = data::bad_rows::skip;
  return options;
}

asp::generator<const event<data::log_record>&> log_records(data::log_reader reader) {
  for (const event<data::log_record>& e : reader) co_yield e;
}

asp::generator<const event<data::log_record>&> csv_records(std::shared_ptr<data::csv_table> table,
                                                           std::optional<time_point> start,
                                                           std::optional<time_point> end) {
  for (const event<std::string>& e : *table) {
    if (start && e.time < *start) continue;
    if (end && e.time > *end) break;
    co_yield event<data::log_record>{e.time, data::log_record{0, e.value, 0}};
  }
}

}  // namespace

input open_input(const std::string& path, const csv_input_options& csv,
                 std::optional<time_point> start, std::optional<time_point> end, bool skip_bad) {
  input in;
  in.path = path;
  if (looks_like_log(path)) {
    data::log_reader reader(
        path, {.start = start,
               .end = end,
               .on_corrupt = skip_bad ? data::corrupt_records::skip : data::corrupt_records::fail});
    in.is_log = true;
    in.files = reader.files();
    in.creator = reader.creator();
    in.streams = reader.streams();
    in.log_report = reader.report();
    in.range = reader.time_range();
    in.records = log_records(std::move(reader));
  } else {
    auto table = std::make_shared<data::csv_table>(path, table_options_of(csv, skip_bad));
    in.streams = {{std::filesystem::path(path).stem().string(), table->schema().to_string()}};
    in.csv_report = table->report();
    in.where = [table] { return table->where_row(); };
    in.records = csv_records(std::move(table), start, end);
  }
  return in;
}

void report_torn_tail(const input& in) {
  if (!in.is_log || !in.log_report || !in.log_report->torn) return;
  const data::torn_tail& t = *in.log_report->torn;
  fmt::print(stderr,
             "asp: {}: a torn tail of {} bytes at offset {} was not read (a writer stopped in "
             "the middle of a record); every record before it was\n",
             t.file.empty() ? in.path : t.file, t.bytes, t.offset);
}

std::optional<time_point> first_time(const std::string& path, const csv_input_options& csv) {
  input in = open_input(path, csv);
  for (const auto& e : in.records) return e.time;
  return std::nullopt;
}

std::string human(duration d) {
  const bool negative = d < duration::zero();
  if (negative) d = -d;
  const auto h = std::chrono::duration_cast<std::chrono::hours>(d);
  const auto m = std::chrono::duration_cast<std::chrono::minutes>(d - h);
  const double s = std::chrono::duration<double>(d - h - m).count();
  std::string out = negative ? "-" : "";
  if (h.count() > 0) return out + fmt::format("{}h{:02}m{:02.0f}s", h.count(), m.count(), s);
  if (m.count() > 0) return out + fmt::format("{}m{:04.1f}s", m.count(), s);
  if (s >= 1) return out + fmt::format("{:.3g}s", s);
  if (d >= std::chrono::milliseconds(1)) {
    return out + fmt::format("{:.3g}ms", std::chrono::duration<double, std::milli>(d).count());
  }
  return out + fmt::format("{}ns", d.count());
}

// ---------------------------------------------------------------------------------------------
// Formatting

namespace {

// A JSON string of `text`, which is UTF-8.
void json_escaped(std::string& out, std::string_view text) {
  out += '"';
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

// A JSON string of `text`; bytes that are not UTF-8, which JSON cannot hold, as U+FFFD.
void json_string(std::string& out, std::string_view text) {
  if (asp::valid_utf8(text)) {
    json_escaped(out, text);
  } else {
    json_escaped(out, data::as_utf8(text));
  }
}

// `,"KEY":` and the payload as a JSON string when it is UTF-8 text; otherwise (binary: a
// websocket's binary message, a NATS message of bytes) `,"KEY_base64":` and its bytes in
// base64, so that nothing is lost and the line stays JSON.
void json_payload(std::string& out, std::string_view key, std::string_view bytes) {
  out += ",\"";
  out += key;
  if (asp::valid_utf8(bytes)) {
    out += "\":";
    json_escaped(out, bytes);
    return;
  }
  out += "_base64\":\"";
  std::string encoded(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.append(encoded.data(), static_cast<std::size_t>(n));
  out += '"';
}

}  // namespace

formatter::formatter(const std::vector<data::log_stream>& streams, const std::string& path)
    : m_streams(streams) {
  for (const data::log_stream& s : m_streams) {
    try {
      m_tables.push_back(data::table_schema::parse(s.schema));
    } catch (const std::invalid_argument& e) {
      throw input_error(path + ": stream " + data::shown(s.name) + ": " + e.what());
    }
  }
  m_one_table = m_streams.size() == 1 && m_tables.front().has_value();
  m_all_nats = !m_streams.empty();
  for (const data::log_stream& s : m_streams) {
    m_nats.push_back(s.schema == nats_message_schema);
    m_all_nats = m_all_nats && m_nats.back();
  }
}

namespace {

// A recorded NATS message, or input_error naming the stream when it is not one.
nats_record nats_of(const event<data::log_record>& e, const std::string& stream) {
  std::optional<nats_record> r = decode_nats_record(e.value.payload);
  if (!r) {
    throw input_error("stream " + data::shown(stream) + ", record at " + asp::to_string(e.time) +
                      ": not a recorded NATS message (cut short)");
  }
  return *r;
}

}  // namespace

std::string formatter::csv_header() const {
  if (m_all_nats) return "time,stream,subject,sequence,payload";
  if (!m_one_table) return "time,stream,payload";
  const data::table_schema& t = *m_tables.front();
  std::string line;
  std::size_t column = 0;
  for (std::size_t i = 0; i <= t.columns.size(); ++i) {
    if (i > 0) line += ',';
    if (i == t.time_position) {
      data::append_csv_field(line, t.time.name);
    } else {
      data::append_csv_field(line, t.columns[column++].name);
    }
  }
  return line;
}

std::string formatter::csv(const event<data::log_record>& e) {
  const auto& table = m_tables[e.value.stream];
  std::string line;
  if (m_one_table) {
    data::decode_row(*table, e.value.payload, m_fields);
    std::size_t column = 0;
    for (std::size_t i = 0; i <= m_fields.size(); ++i) {
      if (i > 0) line += ',';
      if (i == table->time_position) {
        line += data::format_time(e.time, table->times);
      } else {
        data::append_csv_field(line, m_fields[column++]);
      }
    }
    return line;
  }
  line = asp::to_string(e.time) + ",";
  data::append_csv_field(line, m_streams[e.value.stream].name);
  if (m_nats[e.value.stream]) {
    const nats_record r = nats_of(e, m_streams[e.value.stream].name);
    if (m_all_nats) {
      line += ',';
      data::append_csv_field(line, r.subject);
      line += ',' + std::to_string(r.sequence);
    }
    line += ',';
    data::append_csv_field(line, r.data);
  } else if (table) {
    data::decode_row(*table, e.value.payload, m_fields);
    for (const std::string& f : m_fields) {
      line += ',';
      data::append_csv_field(line, f);
    }
  } else {
    line += ',';
    data::append_csv_field(line, e.value.payload);
  }
  return line;
}

std::string formatter::json(const event<data::log_record>& e) {
  std::string out = "{\"time\":\"" + asp::to_string(e.time) + "\",\"stream\":";
  json_string(out, m_streams[e.value.stream].name);
  const auto& table = m_tables[e.value.stream];
  if (m_nats[e.value.stream]) {
    const nats_record r = nats_of(e, m_streams[e.value.stream].name);
    out += ",\"subject\":";
    json_string(out, r.subject);
    out += ",\"sequence\":" + std::to_string(r.sequence) + ",\"headers\":[";
    for (std::size_t h = 0; h < r.headers.size(); ++h) {
      out += h == 0 ? "[" : ",[";
      json_string(out, r.headers[h].first);
      out += ',';
      json_string(out, r.headers[h].second);
      out += ']';
    }
    out += ']';
    json_payload(out, "payload", r.data);
    return out + "}";
  }
  if (!table) {
    json_payload(out, "payload", e.value.payload);
    return out + "}";
  }
  data::decode_row(*table, e.value.payload, m_fields);
  for (std::size_t i = 0; i < m_fields.size(); ++i) {
    out += ',';
    json_string(out, table->columns[i].name);
    out += ':';
    const std::string& f = m_fields[i];
    switch (table->columns[i].type) {
      case data::column_type::integer:
      case data::column_type::boolean:
        out += f;
        break;
      case data::column_type::real:
        // A missing value (NaN, decoded as an empty field) and infinities have no JSON number.
        out += (f.empty() || f.find_first_of("ni") != std::string::npos) ? "null" : f;
        break;
      case data::column_type::text:
        json_string(out, f);
        break;
    }
  }
  return out + "}";
}

std::string formatter::raw(const event<data::log_record>& e) {
  if (m_nats[e.value.stream]) {
    return std::string(nats_of(e, m_streams[e.value.stream].name).data);
  }
  const auto& table = m_tables[e.value.stream];
  if (!table) return std::string(e.value.payload);
  data::decode_row(*table, e.value.payload, m_fields);
  std::string line;
  for (std::size_t i = 0; i < m_fields.size(); ++i) {
    if (i > 0) line += ',';
    data::append_csv_field(line, m_fields[i]);
  }
  return line;
}

// ---------------------------------------------------------------------------------------------
// The progress line

struct progress::state {
  bool enabled;
  std::optional<time_point> from;
  std::optional<time_point> to;
  std::optional<double> rate;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::atomic<std::uint64_t> count{0};
  std::atomic<std::int64_t> last{0};
  std::mutex mutex;
  std::condition_variable wake;
  bool stopping = false;
  std::thread drawer;

  void draw() {
    const std::uint64_t n = count.load(std::memory_order_relaxed);
    if (n == 0) return;
    const time_point at{duration{last.load(std::memory_order_relaxed)}};
    const auto elapsed = std::chrono::steady_clock::now() - started;
    const double seconds = std::chrono::duration<double>(elapsed).count();
    std::string line = asp::to_string(at).substr(0, 19);
    if (to) line += " / " + asp::to_string(*to).substr(0, 19);
    std::optional<double> done;
    if (from && to && *to > *from) {
      done = std::clamp(std::chrono::duration<double>(at - *from).count() /
                            std::chrono::duration<double>(*to - *from).count(),
                        0.0, 1.0);
      line += fmt::format("  {:5.1f}%", 100 * *done);
    } else if (from && to && at >= *to) {
      done = 1.0;  // a range of one instant
      line += "  100.0%";
    }
    line += fmt::format("  {} events  {:.0f} ev/s  elapsed {}", n,
                        seconds > 0 ? static_cast<double>(n) / seconds : 0.0,
                        human(std::chrono::duration_cast<duration>(elapsed)));
    if (done && *done > 0 && *done < 1) {
      line += "  ETA " + human(std::chrono::duration_cast<duration>(
                             std::chrono::duration<double>(seconds * (1 - *done) / *done)));
    }
    if (rate && from) {
      auto scheduled = *from + std::chrono::duration_cast<duration>(
                                   std::chrono::duration<double>(seconds * *rate));
      if (to && scheduled > *to) scheduled = *to;  // the schedule ends with the range
      // In real time: how late the events now due are played.
      if (scheduled > at) {
        line += "  lag " + human(std::chrono::duration_cast<duration>(
                               std::chrono::duration<double>(scheduled - at) / *rate));
      }
    }
    fmt::print(stderr, "\r\x1b[K{}", line);
    std::fflush(stderr);
  }
};

progress::progress(bool enabled, std::optional<time_point> from, std::optional<time_point> to,
                   std::optional<double> rate)
    : m_state(std::make_unique<state>()) {
  state& s = *m_state;
  s.enabled = enabled && ::isatty(2) != 0;
  s.from = from;
  s.to = to;
  s.rate = rate;
  if (!s.enabled) return;
  s.drawer = std::thread([&s] {
    std::unique_lock lock(s.mutex);
    while (!s.wake.wait_for(lock, std::chrono::milliseconds(100), [&] { return s.stopping; })) {
      s.draw();
    }
  });
}

progress::~progress() {
  finish();
}

void progress::event(time_point t) noexcept {
  m_state->last.store(t.time_since_epoch().count(), std::memory_order_relaxed);
  m_state->count.fetch_add(1, std::memory_order_relaxed);
}

void progress::finish() {
  state& s = *m_state;
  if (!s.drawer.joinable()) return;
  {
    std::lock_guard lock(s.mutex);
    s.stopping = true;
  }
  s.wake.notify_all();
  s.drawer.join();
  // The final state stays on the screen.
  s.draw();
  if (s.count.load(std::memory_order_relaxed) > 0) fmt::print(stderr, "\n");
}

std::uint64_t progress::events() const noexcept {
  return m_state->count.load(std::memory_order_relaxed);
}

std::unique_ptr<asp::metrics::server> serve_metrics(asp::metrics::registry& reg,
                                                    const std::string& address, bool quiet) {
  if (address.empty()) return nullptr;
  // Checked here for the message; the server reads "HOST:PORT" itself.
  const auto [host, port] = host_port(address, "127.0.0.1", "--metrics", true);
  auto server = std::make_unique<asp::metrics::server>(reg, host + ":" + std::to_string(port));
  if (!quiet) {
    fmt::print(stderr, "metrics on http://{}:{}/metrics\n", host, server->port());
  }
  return server;
}

}  // namespace asp::tool

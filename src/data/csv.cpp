#include <asp/data/csv.hpp>

#include <asp/data/shown.hpp>

#include <fast_float/fast_float.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <limits>

namespace asp::data {

csv_cursor::csv_cursor(std::string_view bytes, char delimiter, std::string file)
    : m_bytes(bytes), m_delimiter(delimiter), m_file(std::move(file)) {
  if (m_bytes.starts_with("\xEF\xBB\xBF")) m_pos = 3;
}

bool csv_cursor::next(std::vector<csv_field>& fields) {
  fields.clear();
  m_scratch_used = 0;
  const char* const b = m_bytes.data();
  const std::size_t size = m_bytes.size();
  skip_empty_lines();
  if (m_pos >= size) return false;
  m_row_line = m_line;
  m_row_start = m_pos;

  for (;;) {
    const std::size_t start = m_pos;
    if (start < size && b[start] == '"') {
      std::string* unescaped = nullptr;
      std::size_t p = start + 1;
      std::size_t segment = p;
      for (;;) {
        const void* found = std::memchr(b + p, '"', size - p);
        if (found == nullptr) {
          const std::string message =
              where(start) + ": a quoted field is not closed before the end of the file";
          m_line += static_cast<std::size_t>(std::count(b + p, b + size, '\n'));
          m_pos = size;
          throw input_error(message);
        }
        const auto q = static_cast<std::size_t>(static_cast<const char*>(found) - b);
        m_line += static_cast<std::size_t>(std::count(b + p, b + q, '\n'));
        if (q + 1 < size && b[q + 1] == '"') {  // a doubled quote stands for one
          if (unescaped == nullptr) {
            if (m_scratch_used == m_scratch.size()) m_scratch.emplace_back();
            unescaped = &m_scratch[m_scratch_used++];
            unescaped->clear();
          }
          unescaped->append(b + segment, q + 1 - segment);
          p = q + 2;
          segment = p;
          continue;
        }
        if (unescaped != nullptr) {
          unescaped->append(b + segment, q - segment);
          fields.push_back({*unescaped, start, true});
        } else {
          fields.push_back({std::string_view(b + start + 1, q - start - 1), start, false});
        }
        m_pos = q + 1;
        break;
      }
      if (m_pos >= size) return true;
      const char c = b[m_pos];
      if (c == m_delimiter) {
        ++m_pos;
        continue;
      }
      if (c == '\n' || (c == '\r' && m_pos + 1 < size && b[m_pos + 1] == '\n')) {
        m_pos += c == '\n' ? 1 : 2;
        ++m_line;
        return true;
      }
      const std::string message = where(m_pos) +
                                  ": expected a delimiter or the end of the line after a "
                                  "closing quote, found " +
                                  shown(std::string_view(&c, 1));
      skip_line();
      throw input_error(message);
    }
    std::size_t p = start;
    while (p < size && b[p] != m_delimiter && b[p] != '\n') ++p;
    std::size_t end = p;
    if (end > start && b[end - 1] == '\r' && (p == size || b[p] == '\n')) --end;
    // A carriage return that ends no line: a file whose lines end in CR alone would otherwise
    // read as one header row that swallows every line after it.
    if (const void* cr = std::memchr(b + start, '\r', end - start); cr != nullptr) {
      const std::string message =
          where(static_cast<std::size_t>(static_cast<const char*>(cr) - b)) +
          ": a carriage return (CR) inside a row: lines that end in CR alone are not read "
          "(end them with LF or CRLF; a CR inside a field must be quoted)";
      m_pos = p;
      skip_line();
      throw input_error(message);
    }
    fields.push_back({std::string_view(b + start, end - start), start, false});
    if (p >= size) {
      m_pos = size;
      return true;
    }
    m_pos = p + 1;
    if (b[p] != m_delimiter) {
      ++m_line;
      return true;
    }
  }
}

const char* csv_cursor::row_start() noexcept {
  const char* const b = m_bytes.data();
  const std::size_t size = m_bytes.size();
  skip_empty_lines();
  if (m_pos >= size) return nullptr;
  m_row_line = m_line;
  m_row_start = m_pos;
  m_scratch_used = 0;
  return b + m_pos;
}

void csv_cursor::take_row(const char* end) noexcept {
  const char* const b = m_bytes.data();
  auto pos = static_cast<std::size_t>(end - b);
  if (pos < m_bytes.size()) {
    pos += b[pos] == '\r' ? 2 : 1;
    ++m_line;
  }
  m_pos = pos;
}

// Empty lines are no rows.
void csv_cursor::skip_empty_lines() noexcept {
  const char* const b = m_bytes.data();
  const std::size_t size = m_bytes.size();
  while (m_pos < size &&
         (b[m_pos] == '\n' || (b[m_pos] == '\r' && m_pos + 1 < size && b[m_pos + 1] == '\n'))) {
    m_pos += b[m_pos] == '\n' ? 1 : 2;
    ++m_line;
  }
}

void csv_cursor::skip_line() {
  const void* newline = std::memchr(m_bytes.data() + m_pos, '\n', m_bytes.size() - m_pos);
  if (newline == nullptr) {
    m_pos = m_bytes.size();
    return;
  }
  m_pos = static_cast<std::size_t>(static_cast<const char*>(newline) - m_bytes.data()) + 1;
  ++m_line;
}

std::string csv_cursor::where(std::size_t offset) const {
  // Rows start at the start of a line; a quoted field may span lines.
  std::size_t line = m_row_line;
  std::size_t line_start = m_row_start;
  for (std::size_t i = m_row_start; i < offset && i < m_bytes.size(); ++i) {
    if (m_bytes[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  return m_file + ":" + std::to_string(line) + ":" + std::to_string(offset - line_start + 1);
}

std::string csv_cursor::where_row() const {
  return m_file + ":" + std::to_string(m_row_line);
}

namespace detail {

namespace {

// A decimal int64 at the start of [p, end): eight digits at a time (fast_float's SWAR helpers),
// exact, with the range checked. nullptr when there is none, or it does not fit.
const char* parse_int64(const char* p, const char* end, std::int64_t& out) noexcept {
  const bool negative = p != end && *p == '-';
  if (negative) ++p;
  const char* const digits = p;
  std::uint64_t value = 0;
  while (end - p >= 8 && p - digits <= 8 && fast_float::is_made_of_eight_digits_fast(p)) {
    value = value * 100'000'000 + fast_float::parse_eight_digits_unrolled(p);
    p += 8;
  }
  while (p != end && static_cast<unsigned char>(*p - '0') < 10 && p - digits < 19) {
    value = value * 10 + static_cast<std::uint64_t>(*p - '0');
    ++p;
  }
  if (p == digits || (p != end && static_cast<unsigned char>(*p - '0') < 10)) return nullptr;
  const std::uint64_t limit =
      static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) + (negative ? 1 : 0);
  if (value > limit) return nullptr;
  out = negative ? static_cast<std::int64_t>(std::uint64_t{0} - value)
                 : static_cast<std::int64_t>(value);
  return p;
}

// An empty field of a floating-point column is a missing value: NaN, as pandas, numpy and R
// write it (pandas writes NaN as an empty field) and read it back.
template <class T>
bool parse_float(std::string_view text, T& out) noexcept {
  if (text.empty()) {
    out = std::numeric_limits<T>::quiet_NaN();
    return true;
  }
  const char* first = text.data();
  const char* last = first + text.size();
  const auto result = fast_float::from_chars(first, last, out);
  return result.ec == std::errc() && result.ptr == last;
}

template <class T>
bool parse_integer(std::string_view text, T& out) noexcept {
  if (text.empty()) return false;
  const char* first = text.data();
  const char* last = first + text.size();
  const auto result = std::from_chars(first, last, out);
  return result.ec == std::errc() && result.ptr == last;
}

}  // namespace

const char* parse_prefix(const char* first, const char* last, double& out) noexcept {
  const auto r = fast_float::from_chars(first, last, out);
  return r.ec == std::errc() ? r.ptr : nullptr;
}
const char* parse_prefix(const char* first, const char* last, float& out) noexcept {
  const auto r = fast_float::from_chars(first, last, out);
  return r.ec == std::errc() ? r.ptr : nullptr;
}
const char* parse_prefix(const char* first, const char* last, std::int64_t& out) noexcept {
  return parse_int64(first, last, out);
}
const char* parse_prefix(const char* first, const char* last, std::int32_t& out) noexcept {
  const auto r = std::from_chars(first, last, out);
  return r.ec == std::errc() ? r.ptr : nullptr;
}
const char* parse_prefix(const char* first, const char* last, std::uint64_t& out) noexcept {
  const auto r = std::from_chars(first, last, out);
  return r.ec == std::errc() ? r.ptr : nullptr;
}

const char* parse_time_prefix(const char* first, const char* last, time_format format,
                              time_point& out) noexcept {
  std::int64_t scale = 0;
  switch (format) {
    case time_format::iso8601:
      return nullptr;
    case time_format::epoch_seconds:
      scale = 1'000'000'000;
      break;
    case time_format::epoch_millis:
      scale = 1'000'000;
      break;
    case time_format::epoch_micros:
      scale = 1'000;
      break;
    case time_format::epoch_nanos:
      scale = 1;
      break;
  }
  std::int64_t count = 0;
  const char* const end = parse_int64(first, last, count);
  std::int64_t scaled = 0;
  if (end == nullptr || (end != last && *end == '.') ||
      __builtin_mul_overflow(count, scale, &scaled)) {
    return nullptr;
  }
  out = time_point{duration{scaled}};
  return end;
}

bool parse_field(std::string_view text, double& out) noexcept {
  return parse_float(text, out);
}
bool parse_field(std::string_view text, float& out) noexcept {
  return parse_float(text, out);
}
bool parse_field(std::string_view text, std::int64_t& out) noexcept {
  return !text.empty() &&
         parse_int64(text.data(), text.data() + text.size(), out) == text.data() + text.size();
}
bool parse_field(std::string_view text, std::int32_t& out) noexcept {
  return parse_integer(text, out);
}
bool parse_field(std::string_view text, std::uint64_t& out) noexcept {
  return parse_integer(text, out);
}
bool parse_field(std::string_view text, bool& out) noexcept {
  if (text == "true" || text == "TRUE" || text == "True" || text == "1") {
    out = true;
    return true;
  }
  if (text == "false" || text == "FALSE" || text == "False" || text == "0") {
    out = false;
    return true;
  }
  return false;
}

std::string found(std::string_view expected, std::string_view text) {
  std::string out = "expected " + std::string(expected) + ", found ";
  if (text.empty()) return out + "an empty field";
  return out + shown(text, 40);
}

namespace {

std::optional<std::size_t> find_column(const std::vector<std::string>& header,
                                       std::string_view name) {
  const auto it = std::find(header.begin(), header.end(), name);
  if (it == header.end()) return std::nullopt;
  return static_cast<std::size_t>(it - header.begin());
}

std::string missing_column(const std::vector<std::string>& header, std::string_view name,
                           const std::string& file) {
  return file + ":1: no column " + shown(name) + " in the header (" + shown_list(header) + ")";
}

std::size_t find_time_column(const std::vector<std::string>& header, const csv_options& options,
                             const std::string& file) {
  if (!options.time_column.empty()) {
    if (const auto at = find_column(header, options.time_column)) return *at;
    throw input_error(missing_column(header, options.time_column, file));
  }
  for (const std::string_view name : {"time", "timestamp", "ts"}) {
    if (const auto at = find_column(header, name)) return *at;
  }
  throw input_error(file + ":1: no time column: none of 'time', 'timestamp', 'ts' in the header (" +
                    shown_list(header) + "); name it with csv_options::time_column");
}

}  // namespace

csv_reader::csv_reader(std::string path, csv_options options)
    : m_file(std::move(path)),
      m_options(std::move(options)),
      m_cursor(m_file.bytes(), m_options.delimiter, m_file.path()),
      m_report(std::make_shared<csv_report>()) {
  if (!m_cursor.next(m_fields)) {
    throw input_error(m_file.path() + ": no header row (the file is empty)");
  }
  m_header.reserve(m_fields.size());
  for (const csv_field& f : m_fields) m_header.emplace_back(f.text);
  m_time_index = find_time_column(m_header, m_options, m_file.path());
}

std::size_t csv_reader::column(std::string_view name) const {
  const std::optional<std::size_t> at = find_column(m_header, name);
  if (!at) throw input_error(missing_column(m_header, name, m_file.path()));
  return *at;
}

const char* csv_reader::time_in_place(const char* p, const char* end, time_point& out) const {
  if (const char* e = parse_time_prefix(p, end, m_options.times, out)) return e;
  const char* const e = field_end(p, end);
  const std::optional<time_point> t =
      parse_time(std::string_view(p, static_cast<std::size_t>(e - p)), m_options.times);
  if (!t) return nullptr;
  out = *t;
  return e;
}

time_point csv_reader::row_time(const std::vector<csv_field>& fields) const {
  if (fields.size() != width()) {
    throw input_error(m_cursor.where_row() + ": " + std::to_string(fields.size()) +
                      (fields.size() == 1 ? " field" : " fields") + ", the header has " +
                      std::to_string(width()));
  }
  const csv_field& t = fields[m_time_index];
  std::string why;
  const std::optional<time_point> when = parse_time(t.text, m_options.times, &why);
  if (!when) {
    throw input_error(
        m_cursor.where(t.offset) + ": column " + shown(time_name()) + ": " +
        found("a time (" + std::string(to_string(m_options.times)) + "; " + why + ")", t.text));
  }
  return *when;
}

}  // namespace detail

}  // namespace asp::data

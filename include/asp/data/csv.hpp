#pragma once

// CSV files as past sources: rows read lazily from a memory-mapped file, each an
// asp::event<Row> whose time comes from the time column and whose value is the user's struct
// (or a tuple) filled from the other columns, by header name.

#include <asp/data/mapped_file.hpp>
#include <asp/data/time_text.hpp>
#include <asp/error.hpp>
#include <asp/event.hpp>
#include <asp/pull_iterator.hpp>
#include <asp/time.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace asp::data {

/// What a reader does with a row it cannot use (a field that does not parse, a wrong number
/// of fields, a quote left open).
enum class bad_rows {
  fail,  ///< throw asp::input_error naming file:line:column, the column, what was expected and
         ///< found
  skip,  ///< skip it, count it, and keep the first messages (csv_report)
};

/// How a CSV file is read.
struct csv_options {
  /// The time column, by its header name. Empty: the first of "time", "timestamp", "ts".
  std::string time_column{};
  /// How the time column writes times (ISO 8601 by default; epoch counts in a stated unit).
  time_format times = time_format::iso8601;
  char delimiter = ',';
  bad_rows on_bad_row = bad_rows::fail;
  /// Under bad_rows::skip, how many skipped rows' messages csv_report keeps.
  std::size_t report_skipped = 10;
};

/// What a reader has done so far; shared, so it can be read after the reader was moved into
/// a stream.
struct csv_report {
  std::uint64_t rows = 0;     ///< rows delivered
  std::uint64_t skipped = 0;  ///< bad rows skipped (bad_rows::skip)
  /// The messages of the first skipped rows (at most csv_options::report_skipped).
  std::vector<std::string> first_skipped;
};

/// One field of a row as it stands in the file.
struct csv_field {
  std::string_view text;  ///< unquoted; escaped quotes undone (then in the cursor's scratch)
  std::size_t offset;     ///< of the field's first byte in the file
  bool unescaped;         ///< `text` lives in the cursor's scratch, not in the file
};

/// The RFC 4180 tokenizer under every CSV reader: rows of fields from a buffer, with the
/// positions errors need. Quoted fields may hold delimiters, newlines and doubled quotes; lines
/// end with `\n` or `\r\n`; empty lines are skipped; a UTF-8 byte-order mark is ignored. A
/// carriage return that ends no line outside quotes (a file whose lines end in CR alone) is an
/// error naming its place, never a row that swallows the lines after it.
class csv_cursor {
 public:
  csv_cursor(std::string_view bytes, char delimiter, std::string file);

  /// Reads the next row into `fields`: true, or false at the end of the buffer. A malformed
  /// row (a quote left open, text after a closing quote) throws asp::input_error with its
  /// position; the cursor has then moved past it, so reading can go on.
  bool next(std::vector<csv_field>& fields);

  /// For readers that parse fields in place: skips empty lines and returns where the next
  /// row starts (nullptr at the end of the buffer); the row is then the last row read. Call
  /// `take_row` with where it ends, or `rewind_row` to read it with `next` instead.
  const char* row_start() noexcept;
  /// Moves past the row that `row_start` began, which ends at `end` (its `\n`, its `\r\n`, or
  /// the end of the buffer).
  void take_row(const char* end) noexcept;
  /// The end of the buffer.
  const char* buffer_end() const noexcept { return m_bytes.data() + m_bytes.size(); }

  /// Goes back to the start of the last row read, so that `next` reads it again.
  void rewind_row() noexcept {
    m_pos = m_row_start;
    m_line = m_row_line;
  }

  /// The line the last row read starts on (1-based).
  std::size_t line() const noexcept { return m_row_line; }

  /// "FILE:LINE:COLUMN" of a byte of the buffer (the column counts bytes from 1).
  std::string where(std::size_t offset) const;
  /// "FILE:LINE" of the last row read.
  std::string where_row() const;
  const std::string& file() const noexcept { return m_file; }

 private:
  void skip_line();
  void skip_empty_lines() noexcept;

  std::string_view m_bytes;
  char m_delimiter;
  std::string m_file;
  std::size_t m_pos = 0;
  std::size_t m_line = 1;      // the line m_pos is on
  std::size_t m_row_line = 0;  // the line the last row started on
  std::size_t m_row_start = 0;
  std::deque<std::string> m_scratch;  // unescaped fields of the current row
  std::size_t m_scratch_used = 0;
};

namespace detail {

// In-place parsers: a value of the type at the start of [first, last); the end of what was
// parsed, or nullptr when there is none there.
const char* parse_prefix(const char* first, const char* last, double& out) noexcept;
const char* parse_prefix(const char* first, const char* last, float& out) noexcept;
const char* parse_prefix(const char* first, const char* last, std::int64_t& out) noexcept;
const char* parse_prefix(const char* first, const char* last, std::int32_t& out) noexcept;
const char* parse_prefix(const char* first, const char* last, std::uint64_t& out) noexcept;
// An epoch count without a fraction; nullptr for anything else (the general parser decides).
const char* parse_time_prefix(const char* first, const char* last, time_format format,
                              time_point& out) noexcept;

// Field parsers: true when the whole field is a value of the type. An empty field is a
// floating-point column's missing value, NaN; for every other type it is refused.
bool parse_field(std::string_view text, double& out) noexcept;
bool parse_field(std::string_view text, float& out) noexcept;
bool parse_field(std::string_view text, std::int64_t& out) noexcept;
bool parse_field(std::string_view text, std::int32_t& out) noexcept;
bool parse_field(std::string_view text, std::uint64_t& out) noexcept;
bool parse_field(std::string_view text, bool& out) noexcept;

template <class T>
constexpr std::string_view expected_for() {
  if constexpr (std::is_same_v<T, double> || std::is_same_v<T, float>) {
    return "a number";
  } else if constexpr (std::is_same_v<T, bool>) {
    return "true or false (or 1 or 0)";
  } else if constexpr (std::is_same_v<T, std::uint64_t>) {
    return "a non-negative integer";
  } else {
    return "an integer";
  }
}

// "expected X, found 'text'" with the text cut to a readable length.
std::string found(std::string_view expected, std::string_view text);

// In a handler of a bad row's asp::input_error: rethrows it under bad_rows::fail; otherwise
// counts it and keeps its message among the first `keep`.
inline void bad_row(bad_rows policy, std::size_t keep, csv_report& report, const input_error& e) {
  if (policy == bad_rows::fail) throw;
  ++report.skipped;
  if (report.first_skipped.size() < keep) report.first_skipped.emplace_back(e.what());
}

template <class T>
inline constexpr bool is_csv_value =
    std::is_same_v<T, double> || std::is_same_v<T, float> || std::is_same_v<T, std::int64_t> ||
    std::is_same_v<T, std::int32_t> || std::is_same_v<T, std::uint64_t> ||
    std::is_same_v<T, bool> || std::is_same_v<T, std::string> ||
    std::is_same_v<T, std::string_view> || std::is_same_v<T, time_point>;

// What every CSV reader does the same way — csv_source's rows of a struct, csv_table's rows
// of a schema known at run time: the mapped file and its header, the time column, the report,
// beginning once, and the loop that reads the next good row under the bad-row policy, parsing
// a plain row in place and anything else through the tokenizer, which names what is wrong.
class csv_reader {
 public:
  /// Maps `path` and reads its header. Throws asp::input_error when the file cannot be
  /// opened, is empty, or lacks the time column.
  csv_reader(std::string path, csv_options options);

  const std::vector<std::string>& header() const noexcept { return m_header; }
  std::size_t width() const noexcept { return m_header.size(); }
  std::size_t time_index() const noexcept { return m_time_index; }
  const std::string& time_name() const noexcept { return m_header[m_time_index]; }
  const csv_options& options() const noexcept { return m_options; }
  const std::string& path() const noexcept { return m_file.path(); }
  std::string_view bytes() const noexcept { return m_file.bytes(); }
  const csv_cursor& cursor() const noexcept { return m_cursor; }
  const std::shared_ptr<csv_report>& report() const noexcept { return m_report; }

  /// The index of the column `name`; asp::input_error listing the header when there is none.
  std::size_t column(std::string_view name) const;

  /// Reads rows until one is good, or the file ends (then at_end()). With `try_in_place`,
  /// `in_place(row)` first parses a row straight from the buffer (see walk_row) and returns
  /// where it ends, or nullptr to have the tokenizer read it; `tokenized(fields)` fills from
  /// the tokenizer's fields, throwing asp::input_error for a bad row. A bad row is skipped or
  /// thrown as the policy says.
  template <class InPlace, class Tokenized>
  void advance(bool try_in_place, InPlace&& in_place, Tokenized&& tokenized) {
    m_begun = true;
    for (;;) {
      try {
        if (try_in_place) {
          const char* const row = m_cursor.row_start();
          if (row == nullptr) break;
          if (const char* end = in_place(row)) {
            m_cursor.take_row(end);
            ++m_report->rows;
            return;
          }
          m_cursor.rewind_row();
        }
        if (!m_cursor.next(m_fields)) break;
        tokenized(m_fields);
        ++m_report->rows;
        return;
      } catch (const input_error& e) {
        bad_row(m_options.on_bad_row, m_options.report_skipped, *m_report, e);
      }
    }
    m_at_end = true;
  }

  /// Whether a row has been read yet (begin() reads the first once).
  bool begun() const noexcept { return m_begun; }
  /// Whether the last advance found no row.
  bool at_end() const noexcept { return m_at_end; }

  /// Walks the row at `p` field by field, calling `on_field(index, p, buffer_end)` for each,
  /// which returns where the field ends or nullptr: where the row ends (its `\n`, its `\r\n`
  /// or the buffer's end), or nullptr when the row is not plain — a quoted field, a field
  /// that did not parse, a wrong number of fields — for the tokenizer to read and name.
  template <class OnField>
  const char* walk_row(const char* p, OnField&& on_field) const {
    const char* const end = m_cursor.buffer_end();
    const char delimiter = m_options.delimiter;
    const std::size_t width = m_header.size();
    for (std::size_t i = 0; i < width; ++i) {
      if (p != end && *p == '"') return nullptr;  // quoted: the tokenizer unquotes it
      const char* const field_end = on_field(i, p, end);
      if (field_end == nullptr) return nullptr;
      if (i + 1 < width) {
        if (field_end == end || *field_end != delimiter) return nullptr;
        p = field_end + 1;
      } else if (field_end != end && *field_end != '\n' &&
                 !(*field_end == '\r' && field_end + 1 != end && field_end[1] == '\n')) {
        return nullptr;
      } else {
        return field_end;
      }
    }
    return nullptr;  // a header without columns
  }

  /// The end of an unquoted field at `p`: its delimiter, its line end (`\r\n` counts from the
  /// `\r`), or `end`.
  const char* field_end(const char* p, const char* end) const noexcept {
    const char delimiter = m_options.delimiter;
    while (p != end && *p != delimiter && *p != '\n') ++p;
    if (p != end && *p == '\n' && p[-1] == '\r') --p;
    return p;
  }

  /// The time field at `p` parsed in place into `out`: where it ends, or nullptr.
  const char* time_in_place(const char* p, const char* end, time_point& out) const;

  /// The time of a tokenized row, once its width is checked; asp::input_error naming the
  /// place when the row is too short or long, or the time does not parse.
  time_point row_time(const std::vector<csv_field>& fields) const;

 private:
  mapped_file m_file;
  csv_options m_options;
  csv_cursor m_cursor;
  std::vector<std::string> m_header;
  std::size_t m_time_index = 0;
  std::vector<csv_field> m_fields;
  std::shared_ptr<csv_report> m_report;
  bool m_begun = false;
  bool m_at_end = false;
};

}  // namespace detail

/// A column of a struct row: the header name and the member it fills.
template <class Row, class T>
struct member_column {
  static_assert(detail::is_csv_value<T>,
                "asp::data: a CSV column fills a double, float, int64_t, int32_t, uint64_t, "
                "bool, std::string, std::string_view or asp::time_point");
  using row_type = Row;
  using value_type = T;
  std::string name;
  T Row::*member;
  T& target(Row& row) const noexcept { return row.*member; }
};

/// A column of a tuple row: the header name and the tuple's element I.
template <std::size_t I, class T>
struct index_column {
  static_assert(detail::is_csv_value<T>,
                "asp::data: a CSV column fills a double, float, int64_t, int32_t, uint64_t, "
                "bool, std::string, std::string_view or asp::time_point");
  using value_type = T;
  std::string name;
  template <class Row>
  T& target(Row& row) const noexcept {
    return std::get<I>(row);
  }
};

/// The column named `name` fills `member`: `asp::data::column("bid", &quote::bid)`.
template <class Row, class T>
member_column<Row, T> column(std::string name, T Row::*member) {
  return {std::move(name), member};
}

/// A past source of `asp::event<Row>` from a CSV file with a header row: the time from the
/// time column, each bound column parsed into its part of the row. Read lazily, one row at a
/// time, from a memory-mapped file; a single-pass input range. A `std::string_view` column
/// views the file (or, for a field with escaped quotes, a copy that lives as long as the
/// reader). Columns not bound are ignored. An empty field of a `double` or `float` column is a
/// missing value, NaN (as pandas writes NaN); of any other number or bool it is an error.
/// Errors are asp::input_error:
///
///     quotes.csv:12:17: column 'bid': expected a number, found 'n/a'
///
/// Build one with `read_csv` (struct rows) or `read_csv_tuple` (tuple rows).
template <class Row, class... Columns>
class csv_source {
  static_assert(std::is_default_constructible_v<Row>,
                "asp::data::csv_source: the row type must be default-constructible");

  struct state {
    state(std::string path, csv_options opts, std::tuple<Columns...> cols)
        : reader(std::move(path), std::move(opts)), columns(std::move(cols)) {
      std::apply(
          [&](const Columns&... c) {
            std::size_t i = 0;
            ((indexes[i++] = reader.column(c.name)), ...);
          },
          columns);
      roles.assign(reader.width(), unbound_role);
      roles[reader.time_index()] = time_role;
      for (std::size_t k = 0; k < indexes.size(); ++k) {
        if (roles[indexes[k]] == unbound_role) roles[indexes[k]] = static_cast<int>(k);
      }
      // A column bound twice (or the time column bound too) is read through the tokenizer.
      std::size_t distinct = 0;
      for (const int r : roles) distinct += r >= 0 ? 1 : 0;
      in_place = distinct == indexes.size();
    }

    // Reads rows until one is good, or the file ends.
    void advance() {
      reader.advance(
          in_place, [this](const char* row) { return fill_in_place(row); },
          [this](const std::vector<csv_field>& fields) { fill(fields); });
    }

    // The row's fields in order, each bound one parsed straight from the buffer: where the row
    // ends, or nullptr when it is not simply well-formed.
    const char* fill_in_place(const char* row) {
      return reader.walk_row(row, [this](std::size_t i, const char* p, const char* end) {
        const int role = roles[i];
        if (role == time_role) return reader.time_in_place(p, end, current_row.time);
        if (role >= 0) return (this->*setters[static_cast<std::size_t>(role)])(p, end);
        return reader.field_end(p, end);
      });
    }

    template <std::size_t K>
    const char* set_in_place(const char* p, const char* end) {
      const auto& c = std::get<K>(columns);
      using T = typename std::tuple_element_t<K, std::tuple<Columns...>>::value_type;
      T& out = c.target(current_row.value);
      if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, std::string_view>) {
        const char* e = reader.field_end(p, end);
        // A carriage return that ends no line: the tokenizer says where.
        if (std::memchr(p, '\r', static_cast<std::size_t>(e - p)) != nullptr) return nullptr;
        out = T(p, static_cast<std::size_t>(e - p));
        return e;
      } else if constexpr (std::is_same_v<T, bool>) {
        const char* e = reader.field_end(p, end);
        return detail::parse_field(std::string_view(p, static_cast<std::size_t>(e - p)), out)
                   ? e
                   : nullptr;
      } else if constexpr (std::is_same_v<T, time_point>) {
        const char* e = reader.field_end(p, end);
        const std::optional<time_point> t = parse_time(
            std::string_view(p, static_cast<std::size_t>(e - p)), reader.options().times);
        if (!t) return nullptr;
        out = *t;
        return e;
      } else {
        return detail::parse_prefix(p, end, out);
      }
    }

    using setter = const char* (state::*)(const char*, const char*);
    template <std::size_t... K>
    static std::array<setter, sizeof...(Columns)> make_setters(std::index_sequence<K...>) {
      return {&state::template set_in_place<K>...};
    }

    void fill(const std::vector<csv_field>& fields) {
      current_row.time = reader.row_time(fields);
      std::apply(
          [&](const Columns&... c) {
            std::size_t i = 0;
            (set(c, fields[indexes[i++]]), ...);
          },
          columns);
    }

    template <class Column>
    void set(const Column& c, const csv_field& f) {
      using T = typename Column::value_type;
      T& out = c.target(current_row.value);
      if constexpr (std::is_same_v<T, std::string>) {
        out.assign(f.text);
      } else if constexpr (std::is_same_v<T, std::string_view>) {
        if (f.unescaped) {
          out = arena.emplace_back(f.text);
        } else {
          out = f.text;
        }
      } else if constexpr (std::is_same_v<T, time_point>) {
        std::string why;
        const std::optional<time_point> v = parse_time(f.text, reader.options().times, &why);
        if (!v) {
          throw input_error(reader.cursor().where(f.offset) + ": column '" + c.name +
                            "': " + detail::found("a time (" + why + ")", f.text));
        }
        out = *v;
      } else {
        if (!detail::parse_field(f.text, out)) {
          throw input_error(reader.cursor().where(f.offset) + ": column '" + c.name +
                            "': " + detail::found(detail::expected_for<T>(), f.text));
        }
      }
    }

    // What the iterator reads.
    const event<Row>& current() const noexcept { return current_row; }
    bool at_end() const noexcept { return reader.at_end(); }

    detail::csv_reader reader;
    std::tuple<Columns...> columns;
    std::array<std::size_t, sizeof...(Columns)> indexes{};
    event<Row> current_row{};
    std::deque<std::string> arena;
    static constexpr int time_role = -1;
    static constexpr int unbound_role = -2;
    std::vector<int> roles;  // per column of the file: time_role, unbound_role or a binding
    bool in_place = true;
    std::array<setter, sizeof...(Columns)> setters =
        make_setters(std::index_sequence_for<Columns...>{});
  };

 public:
  using value_type = event<Row>;

  /// Opens and maps `path` and reads its header. Throws asp::input_error when the file cannot
  /// be opened, is empty, or lacks the time column or a bound column (the message lists the
  /// header's columns).
  csv_source(std::string path, csv_options options, Columns... columns)
      : m_state(std::make_unique<state>(std::move(path), std::move(options),
                                        std::tuple<Columns...>(std::move(columns)...))) {}

  /// Single-pass iterator over the rows.
  using iterator = asp::pull_iterator<state, event<Row>>;

  /// Reads the first row (once).
  iterator begin() {
    if (!m_state->reader.begun()) m_state->advance();
    return iterator{m_state.get()};
  }
  std::default_sentinel_t end() const noexcept { return {}; }

  /// Rows delivered and skipped so far; stays valid after the reader is moved or destroyed.
  std::shared_ptr<const csv_report> report() const noexcept { return m_state->reader.report(); }

  /// The file's path.
  const std::string& path() const noexcept { return m_state->reader.path(); }

 private:
  std::unique_ptr<state> m_state;
};

/// Reads `path` into events of a struct: `read_csv<quote>("quotes.csv", {},
/// column("bid", &quote::bid), column("ask", &quote::ask))`.
template <class Row, class... Columns>
csv_source<Row, Columns...> read_csv(std::string path, csv_options options, Columns... columns) {
  static_assert((std::is_same_v<typename Columns::row_type, Row> && ...),
                "asp::data::read_csv<Row>: every column must be a member of Row");
  return csv_source<Row, Columns...>(std::move(path), std::move(options), std::move(columns)...);
}

namespace detail {
template <class... Ts, std::size_t... I>
auto tuple_source(std::string path, const std::array<std::string, sizeof...(Ts)>& names,
                  csv_options options, std::index_sequence<I...>) {
  return csv_source<std::tuple<Ts...>, index_column<I, Ts>...>(std::move(path), std::move(options),
                                                               index_column<I, Ts>{names[I]}...);
}
}  // namespace detail

/// Reads `path` into events of `std::tuple<Ts...>`, one column per element, by name:
/// `read_csv_tuple<double, double, std::int64_t>("quotes.csv", {"bid", "ask", "size"})`.
template <class... Ts>
auto read_csv_tuple(std::string path, const std::array<std::string, sizeof...(Ts)>& names,
                    csv_options options = {}) {
  return detail::tuple_source<Ts...>(std::move(path), names, std::move(options),
                                     std::index_sequence_for<Ts...>{});
}

}  // namespace asp::data

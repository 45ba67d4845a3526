#pragma once

// Tables: CSV rows whose columns are known only at run time — what the `asp` tool reads,
// records and writes back. A schema names each column and its type (inferred from the first
// rows or given); rows travel through a record log as compact binary payloads, and the schema
// string goes into the log's header so the rows can be written back as the same CSV.

#include <asp/data/csv.hpp>
#include <asp/data/time_text.hpp>
#include <asp/event.hpp>
#include <asp/pull_iterator.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace asp::data {

/// The type of a table column.
enum class column_type {
  integer,  ///< int64, "i64"
  real,     ///< double, "f64"
  boolean,  ///< "bool": true/false, 1/0
  text,     ///< "text": any bytes
};

/// The name of a type in a schema string: "i64", "f64", "bool", "text".
std::string_view to_string(column_type type) noexcept;

struct table_column {
  std::string name;
  column_type type = column_type::text;
  friend bool operator==(const table_column&, const table_column&) = default;
};

/// What a table's rows hold: the time column (its name and format) and the value columns, in
/// the file's order. As a string (a record log's stream schema):
/// `table time=iso8601 symbol:text,bid:f64,size:i64`.
struct table_schema {
  table_column time{"time", column_type::text};
  time_format times = time_format::iso8601;
  std::vector<table_column> columns;
  /// The time column's position among all the columns of the CSV (for writing it back).
  std::size_t time_position = 0;

  std::string to_string() const;
  /// Parses what to_string() wrote; std::nullopt for another kind of schema string (one that
  /// does not start with "table "). Throws std::invalid_argument, saying what is wrong, for a
  /// table schema that is not whole (a file's header may hold anything with a valid CRC).
  static std::optional<table_schema> parse(std::string_view text);
  /// Parses a user's `--schema`: `name:type,...` (the time column excluded).
  static std::vector<table_column> parse_columns(std::string_view text);

  friend bool operator==(const table_schema&, const table_schema&) = default;
};

/// Encodes a row's fields (text, one per column of `schema`, in order) as a payload: i64 and
/// f64 as 8 bytes, bool as 1, text as a u32 length and its bytes. Throws asp::input_error
/// ("column 'bid': expected a number, found 'x'") for a field of the wrong type, and then
/// sets `*failed` (when given) to that column's index.
void encode_row(const table_schema& schema, const std::vector<std::string_view>& fields,
                std::string& payload, std::size_t* failed = nullptr);

namespace detail {
[[noreturn]] void row_too_short(std::size_t payload, const table_column& column);
[[noreturn]] void row_too_long(std::size_t payload, std::size_t row);
}  // namespace detail

/// Reads a row payload (encode_row's layout): calls `on(index, value)` for each column of
/// `schema` in order, `value` a std::int64_t, double, bool or std::string_view (viewing the
/// payload) as the column's type says. The one reader of the layout (the tool's text, Python's
/// tuples, a plot's numbers). Throws asp::input_error for a payload that does not match the
/// schema: too short for a column, or longer than the row.
template <class Visitor>
void visit_row(const table_schema& schema, std::string_view payload, Visitor&& on) {
  std::size_t pos = 0;
  const auto take = [&](std::size_t n, const table_column& c) {
    if (n > payload.size() - pos) detail::row_too_short(payload.size(), c);
    const char* p = payload.data() + pos;
    pos += n;
    return p;
  };
  for (std::size_t i = 0; i < schema.columns.size(); ++i) {
    const table_column& c = schema.columns[i];
    switch (c.type) {
      case column_type::integer: {
        std::int64_t v = 0;
        std::memcpy(&v, take(8, c), 8);
        on(i, v);
        break;
      }
      case column_type::real: {
        double v = 0;
        std::memcpy(&v, take(8, c), 8);
        on(i, v);
        break;
      }
      case column_type::boolean:
        on(i, *take(1, c) != '\0');
        break;
      case column_type::text: {
        std::uint32_t n = 0;
        std::memcpy(&n, take(4, c), 4);
        on(i, std::string_view(take(n, c), n));
        break;
      }
    }
  }
  if (pos != payload.size()) detail::row_too_long(payload.size(), pos);
}

/// Decodes a payload back into each column's text (numbers in their shortest exact form; a
/// real column's NaN, a missing value, as an empty field).
/// Throws asp::input_error for a payload that does not match the schema.
void decode_row(const table_schema& schema, std::string_view payload,
                std::vector<std::string>& fields);

/// How a CSV file is read as a table.
struct table_options {
  /// The time column and its format, the delimiter, what to do with a bad row: as for any
  /// CSV reader.
  csv_options csv{};
  /// The value columns' types; empty: every column but the time, its type inferred from the
  /// first `infer_rows` rows (integer if every value is one, else real, else boolean, else
  /// text). An empty field is a missing value: NaN in a real column, an empty string in a text
  /// one, an error in the others; a column with empty fields among those rows is therefore
  /// real rather than integer (as pandas reads it) and text rather than boolean.
  std::vector<table_column> columns{};
  std::size_t infer_rows = 100;
};

/// A CSV file as a past source of `asp::event<std::string>`, each value a row encoded as
/// `encode_row` does under `schema()`.
class csv_table {
 public:
  explicit csv_table(std::string path, table_options options = {});
  csv_table(csv_table&&) noexcept;
  csv_table& operator=(csv_table&&) noexcept;
  ~csv_table();

  const table_schema& schema() const noexcept;
  std::shared_ptr<const csv_report> report() const noexcept;
  /// "FILE:LINE" of the row last delivered, for messages about it.
  std::string where_row() const;

  using iterator = asp::pull_iterator<csv_table, event<std::string>>;
  iterator begin();
  std::default_sentinel_t end() const noexcept { return {}; }

 private:
  friend iterator;
  const event<std::string>& current() const noexcept;
  void advance();
  bool at_end() const noexcept;

  struct state;
  std::unique_ptr<state> m_state;
};

/// Writes CSV: fields quoted when they hold the delimiter, a quote or a line break.
void append_csv_field(std::string& line, std::string_view field, char delimiter = ',');

}  // namespace asp::data

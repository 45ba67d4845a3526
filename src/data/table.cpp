#include <asp/data/table.hpp>

#include <asp/data/shown.hpp>
#include <asp/error.hpp>

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>

namespace asp::data {

std::string_view to_string(column_type type) noexcept {
  switch (type) {
    case column_type::integer:
      return "i64";
    case column_type::real:
      return "f64";
    case column_type::boolean:
      return "bool";
    case column_type::text:
      return "text";
  }
  return "text";
}

namespace {

std::optional<column_type> type_named(std::string_view name) {
  if (name == "i64") return column_type::integer;
  if (name == "f64") return column_type::real;
  if (name == "bool") return column_type::boolean;
  if (name == "text") return column_type::text;
  return std::nullopt;
}

// Column names may hold anything; the schema string escapes what it uses as punctuation.
std::string escape(std::string_view name) {
  std::string out;
  for (const char c : name) {
    if (std::strchr(",: %@=\n\r", c) != nullptr && c != '\0') {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", static_cast<unsigned char>(c));
      out += hex;
    } else {
      out += c;
    }
  }
  return out;
}

std::optional<std::string> unescape(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    unsigned value = 0;
    if (std::from_chars(text.data() + i + 1, text.data() + i + 3, value, 16).ec != std::errc()) {
      return std::nullopt;
    }
    out += static_cast<char>(value);
    i += 2;
  }
  return out;
}

std::vector<std::string_view> split(std::string_view text, char by) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t at = text.find(by, start);
    out.push_back(text.substr(start, at == std::string_view::npos ? text.npos : at - start));
    if (at == std::string_view::npos) return out;
    start = at + 1;
  }
}

template <class T>
void put(std::string& out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  out.append(bytes, sizeof(T));
}

}  // namespace

std::string table_schema::to_string() const {
  std::string out = "table " + escape(time.name) + "=" + std::string(data::to_string(times)) + "@" +
                    std::to_string(time_position);
  for (std::size_t i = 0; i < columns.size(); ++i) {
    out += i == 0 ? " " : ",";
    out += escape(columns[i].name) + ":" + std::string(data::to_string(columns[i].type));
  }
  return out;
}

std::optional<table_schema> table_schema::parse(std::string_view whole) {
  if (!whole.starts_with("table ")) return std::nullopt;
  auto bad = [&](const std::string& why) {
    return std::invalid_argument("the table schema " + shown(whole, 200) + " " + why);
  };
  std::string_view text = whole.substr(6);
  const std::size_t space = text.find(' ');
  const std::string_view time_part = text.substr(0, space);
  const std::size_t eq = time_part.find('=');
  const std::size_t at = time_part.find('@');
  if (eq == std::string_view::npos || at == std::string_view::npos || at < eq) {
    throw bad("has no time column (NAME=FORMAT@POSITION)");
  }
  table_schema s;
  const auto name = unescape(time_part.substr(0, eq));
  if (!name) throw bad("has a time column whose name is badly escaped");
  const auto format = time_format_named(time_part.substr(eq + 1, at - eq - 1));
  if (!format) throw bad("has a time format this reader does not know");
  const std::string_view position = time_part.substr(at + 1);
  const char* end = position.data() + position.size();
  const auto [ptr, ec] = std::from_chars(position.data(), end, s.time_position);
  if (ec != std::errc() || ptr != end) throw bad("has no time column position");
  s.time.name = *name;
  s.times = *format;
  if (space != std::string_view::npos) {
    for (const std::string_view column : split(text.substr(space + 1), ',')) {
      const std::size_t colon = column.rfind(':');
      const auto column_name =
          colon == std::string_view::npos ? std::nullopt : unescape(column.substr(0, colon));
      const auto type =
          colon == std::string_view::npos ? std::nullopt : type_named(column.substr(colon + 1));
      if (!column_name || !type) throw bad("has a column that is not NAME:TYPE");
      s.columns.push_back({*column_name, *type});
    }
  }
  // The time column is one of the CSV's columns.size() + 1.
  if (s.time_position > s.columns.size()) {
    throw bad("puts its time column at position " + std::to_string(s.time_position) +
              ", past its " + std::to_string(s.columns.size() + 1) + " columns");
  }
  return s;
}

std::vector<table_column> table_schema::parse_columns(std::string_view text) {
  std::vector<table_column> out;
  for (const std::string_view column : split(text, ',')) {
    const std::size_t colon = column.rfind(':');
    const auto type =
        colon == std::string_view::npos ? std::nullopt : type_named(column.substr(colon + 1));
    if (!type || colon == 0) {
      throw std::invalid_argument(
          "a schema is NAME:TYPE,... with TYPE one of i64, f64, bool, "
          "text; not " +
          shown(column));
    }
    out.push_back({std::string(column.substr(0, colon)), *type});
  }
  return out;
}

void encode_row(const table_schema& schema, const std::vector<std::string_view>& fields,
                std::string& payload, std::size_t* failed) {
  for (std::size_t i = 0; i < schema.columns.size(); ++i) {
    const table_column& c = schema.columns[i];
    const std::string_view f = fields[i];
    auto bad = [&](std::string_view expected) {
      if (failed != nullptr) *failed = i;
      return input_error("column " + shown(c.name) + ": " + detail::found(expected, f));
    };
    switch (c.type) {
      case column_type::integer: {
        std::int64_t v = 0;
        if (!detail::parse_field(f, v)) throw bad("an integer");
        put(payload, v);
        break;
      }
      case column_type::real: {
        double v = 0;
        if (!detail::parse_field(f, v)) throw bad("a number");
        put(payload, v);
        break;
      }
      case column_type::boolean: {
        bool v = false;
        if (!detail::parse_field(f, v)) throw bad("true or false (or 1 or 0)");
        payload.push_back(v ? '\1' : '\0');
        break;
      }
      case column_type::text:
        put(payload, static_cast<std::uint32_t>(f.size()));
        payload.append(f);
        break;
    }
  }
}

namespace detail {

void row_too_short(std::size_t payload, const table_column& column) {
  throw input_error("a payload of " + std::to_string(payload) + " bytes is too short for column " +
                    shown(column.name) + " of its schema");
}

void row_too_long(std::size_t payload, std::size_t row) {
  throw input_error("a payload of " + std::to_string(payload) + " bytes for a row of " +
                    std::to_string(row) + " bytes under its schema");
}

}  // namespace detail

void decode_row(const table_schema& schema, std::string_view payload,
                std::vector<std::string>& fields) {
  fields.resize(schema.columns.size());
  visit_row(schema, payload, [&](std::size_t i, auto value) {
    using V = decltype(value);
    std::string& out = fields[i];
    if constexpr (std::is_same_v<V, std::string_view>) {
      out.assign(value);
    } else if constexpr (std::is_same_v<V, bool>) {
      out = value ? "true" : "false";
    } else {
      if constexpr (std::is_same_v<V, double>) {
        // A missing value is written as it was read: an empty field.
        if (std::isnan(value)) {
          out.clear();
          return;
        }
      }
      char buffer[32];
      const auto end = std::to_chars(buffer, buffer + sizeof buffer, value).ptr;
      out.assign(buffer, end);
    }
  });
}

void append_csv_field(std::string& line, std::string_view field, char delimiter) {
  if (field.find_first_of(std::string{delimiter, '"', '\n', '\r'}) == std::string_view::npos) {
    line += field;
    return;
  }
  line += '"';
  for (const char c : field) {
    if (c == '"') line += '"';
    line += c;
  }
  line += '"';
}

struct csv_table::state {
  state(std::string path, table_options opts)
      : reader(std::move(path), opts.csv), options(std::move(opts)) {
    const std::vector<std::string>& header = reader.header();
    schema.time_position = reader.time_index();
    schema.time = {reader.time_name(), column_type::text};
    schema.times = options.csv.times;
    if (!options.columns.empty()) {
      for (const table_column& c : options.columns) {
        positions.push_back(reader.column(c.name));
        schema.columns.push_back(c);
      }
    } else {
      for (std::size_t i = 0; i < header.size(); ++i) {
        if (i == schema.time_position) continue;
        positions.push_back(i);
        schema.columns.push_back({header[i], column_type::text});
      }
      infer();
    }
    values.resize(positions.size());
    // Which value each column of the file fills; a column named twice goes through the
    // tokenizer.
    roles.assign(reader.width(), unbound);
    roles[schema.time_position] = time_role;
    in_place = true;
    for (std::size_t k = 0; k < positions.size(); ++k) {
      if (roles[positions[k]] != unbound) in_place = false;
      roles[positions[k]] = static_cast<int>(k);
    }
  }

  // The types the first rows allow: integer, then real, then boolean, then text. Empty fields
  // are missing values, which only a real column (NaN) and text hold: a column of integers
  // with empty fields among them is real, as pandas reads it, and one of booleans is text.
  void infer() {
    const std::size_t n = schema.columns.size();
    std::vector<bool> integer(n, true), real(n, true), boolean(n, true), seen(n, false),
        blank(n, false);
    csv_cursor probe(reader.bytes(), options.csv.delimiter, reader.path());
    std::vector<csv_field> row;
    probe.next(row);  // the header
    for (std::size_t r = 0; r < options.infer_rows;) {
      try {
        if (!probe.next(row)) break;
      } catch (const input_error&) {
        continue;
      }
      ++r;
      if (row.size() != reader.width()) continue;
      for (std::size_t i = 0; i < n; ++i) {
        const std::string_view f = row[positions[i]].text;
        if (f.empty()) {
          blank[i] = true;
          continue;
        }
        seen[i] = true;
        std::int64_t iv = 0;
        double dv = 0;
        bool bv = false;
        if (integer[i] && !detail::parse_field(f, iv)) integer[i] = false;
        if (real[i] && !detail::parse_field(f, dv)) real[i] = false;
        if (boolean[i] && !detail::parse_field(f, bv)) boolean[i] = false;
      }
    }
    for (std::size_t i = 0; i < n; ++i) {
      if (blank[i]) integer[i] = boolean[i] = false;
      column_type& t = schema.columns[i].type;
      t = !seen[i]     ? column_type::text
          : integer[i] ? column_type::integer
          : real[i]    ? column_type::real
          : boolean[i] ? column_type::boolean
                       : column_type::text;
    }
  }

  void advance() {
    reader.advance(
        in_place, [this](const char* row) { return fill_in_place(row); },
        [this](const std::vector<csv_field>& fields) { fill(fields); });
  }

  // A plain row's fields viewed in the buffer and encoded: where the row ends, or nullptr for
  // the tokenizer to read it (and name what is wrong).
  const char* fill_in_place(const char* row) {
    const char* const end =
        reader.walk_row(row, [this](std::size_t i, const char* p, const char* last) -> const char* {
          const int role = roles[i];
          if (role == time_role) return reader.time_in_place(p, last, current_row.time);
          const char* const e = reader.field_end(p, last);
          if (role >= 0) {
            const auto size = static_cast<std::size_t>(e - p);
            // A carriage return that ends no line: the tokenizer says where.
            if (std::memchr(p, '\r', size) != nullptr) return nullptr;
            values[static_cast<std::size_t>(role)] = std::string_view(p, size);
          }
          return e;
        });
    if (end == nullptr) return nullptr;
    current_row.value.clear();
    try {
      encode_row(schema, values, current_row.value);
    } catch (const input_error&) {
      return nullptr;
    }
    return end;
  }

  void fill(const std::vector<csv_field>& fields) {
    current_row.time = reader.row_time(fields);
    for (std::size_t i = 0; i < positions.size(); ++i) values[i] = fields[positions[i]].text;
    current_row.value.clear();
    std::size_t failed = 0;
    try {
      encode_row(schema, values, current_row.value, &failed);
    } catch (const input_error& e) {
      throw input_error(reader.cursor().where(fields[positions[failed]].offset) + ": " + e.what());
    }
  }

  detail::csv_reader reader;
  table_options options;
  table_schema schema;
  std::vector<std::size_t> positions;  // of each value column in the file's columns
  static constexpr int time_role = -1;
  static constexpr int unbound = -2;
  std::vector<int> roles;  // per column of the file: time_role, unbound or a value's index
  bool in_place = true;
  std::vector<std::string_view> values;
  event<std::string> current_row{};
};

csv_table::csv_table(std::string path, table_options options)
    : m_state(std::make_unique<state>(std::move(path), std::move(options))) {}
csv_table::csv_table(csv_table&&) noexcept = default;
csv_table& csv_table::operator=(csv_table&&) noexcept = default;
csv_table::~csv_table() = default;

const table_schema& csv_table::schema() const noexcept {
  return m_state->schema;
}
std::shared_ptr<const csv_report> csv_table::report() const noexcept {
  return m_state->reader.report();
}

std::string csv_table::where_row() const {
  return m_state->reader.cursor().where_row();
}

csv_table::iterator csv_table::begin() {
  if (!m_state->reader.begun()) m_state->advance();
  return iterator{this};
}

const event<std::string>& csv_table::current() const noexcept {
  return m_state->current_row;
}
void csv_table::advance() {
  m_state->advance();
}
bool csv_table::at_end() const noexcept {
  return m_state->reader.at_end();
}

}  // namespace asp::data

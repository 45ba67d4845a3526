// asp::data tables: CSV rows with run-time columns, their schema strings and payloads.
#include <asp/data/table.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <type_traits>
#include <vector>

#include "data/temp_file.hpp"
#include "test_support.hpp"

namespace {

using namespace asp::testing;
using asp::data::column_type;
using asp::data::table_column;
using asp::data::table_schema;

TEST(Table, TypesAreInferredFromTheFirstRows) {
  temp_dir dir;
  const std::string path = dir.write("q.csv",
                                     "symbol,timestamp,bid,size,firm,note\n"
                                     "ACME,2025-01-01T00:00:01Z,10,100,true,\n"
                                     "INIT,2025-01-01T00:00:02Z,10.5,-3,false,\"a, b\"\n");
  asp::data::csv_table table(path);
  const table_schema& s = table.schema();
  EXPECT_EQ(s.time.name, "timestamp");
  EXPECT_EQ(s.time_position, 1u);
  EXPECT_EQ(s.columns, (std::vector<table_column>{{"symbol", column_type::text},
                                                  {"bid", column_type::real},
                                                  {"size", column_type::integer},
                                                  {"firm", column_type::boolean},
                                                  {"note", column_type::text}}));
  std::vector<std::vector<std::string>> rows;
  std::vector<asp::time_point> times;
  for (const auto& e : table) {
    std::vector<std::string> fields;
    asp::data::decode_row(s, e.value, fields);
    rows.push_back(fields);
    times.push_back(e.time);
  }
  EXPECT_EQ(times, (std::vector<asp::time_point>{t0 + 1s, t0 + 2s}));
  EXPECT_EQ(rows, (std::vector<std::vector<std::string>>{{"ACME", "10", "100", "true", ""},
                                                         {"INIT", "10.5", "-3", "false", "a, b"}}));
}

// Empty fields are missing values: a column of integers with some is real (NaN where they
// are), as pandas reads it, one of booleans is text; decoded, NaN is an empty field again.
TEST(Table, EmptyFieldsAreMissingValues) {
  temp_dir dir;
  const std::string path = dir.write("m.csv",
                                     "time,n,x,b,s\n"
                                     "2025-01-01T00:00:01Z,1,0.5,true,a\n"
                                     "2025-01-01T00:00:02Z,,,,\n"
                                     "2025-01-01T00:00:03Z,3,inf,false,\"c\"\n");
  asp::data::csv_table table(path);
  const table_schema& s = table.schema();
  EXPECT_EQ(s.columns, (std::vector<table_column>{{"n", column_type::real},
                                                  {"x", column_type::real},
                                                  {"b", column_type::text},
                                                  {"s", column_type::text}}));
  std::vector<std::vector<std::string>> rows;
  std::vector<double> n;
  for (const auto& e : table) {
    std::vector<std::string> fields;
    asp::data::decode_row(s, e.value, fields);
    rows.push_back(fields);
    asp::data::visit_row(s, e.value, [&](std::size_t i, auto v) {
      if constexpr (std::is_same_v<decltype(v), double>) {
        if (i == 0) n.push_back(v);
      }
    });
  }
  EXPECT_EQ(rows, (std::vector<std::vector<std::string>>{
                      {"1", "0.5", "true", "a"}, {"", "", "", ""}, {"3", "inf", "false", "c"}}));
  ASSERT_EQ(n.size(), 3u);
  EXPECT_EQ(n[0], 1.0);
  EXPECT_TRUE(std::isnan(n[1]));
  EXPECT_EQ(n[2], 3.0);
}

TEST(Table, SchemaStringsRoundTripWithAnyColumnName) {
  table_schema s;
  s.time = {"at time", column_type::text};
  s.times = asp::data::time_format::epoch_micros;
  s.time_position = 2;
  s.columns = {
      {"a,b:c", column_type::real}, {"100%", column_type::integer}, {"x", column_type::text}};
  const std::string text = s.to_string();
  EXPECT_EQ(text, "table at%20time=us@2 a%2Cb%3Ac:f64,100%25:i64,x:text");
  EXPECT_EQ(table_schema::parse(text), s);
  EXPECT_EQ(table_schema::parse("f64"), std::nullopt);
  EXPECT_EQ(table_schema::parse("table t=iso8601@0"),
            (table_schema{{"t", column_type::text}, asp::data::time_format::iso8601, {}, 0}));
  // A crafted header's schema: refused, saying why, never read past its columns.
  auto why = [](std::string_view schema) {
    try {
      (void)table_schema::parse(schema);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(why("table time=iso8601@5 a:i64"),
            "the table schema 'table time=iso8601@5 a:i64' puts its time column at position 5, "
            "past its 2 columns");
  EXPECT_EQ(why("table time=iso8601@18446744073709551615 a:i64"),
            "the table schema 'table time=iso8601@18446744073709551615 a:i64' puts its time column "
            "at position 18446744073709551615, past its 2 columns");
  EXPECT_EQ(why("table time=iso8601@99999999999999999999 a:i64"),
            "the table schema 'table time=iso8601@99999999999999999999 a:i64' has no time column "
            "position");
  EXPECT_EQ(why("table time=iso8601@1x a:i64"),
            "the table schema 'table time=iso8601@1x a:i64' has no time column position");
  EXPECT_EQ(why("table time@0"),
            "the table schema 'table time@0' has no time column "
            "(NAME=FORMAT@POSITION)");
  EXPECT_EQ(why("table t=iso8601@0 a:float"),
            "the table schema 'table t=iso8601@0 a:float' has a column that is not NAME:TYPE");
  EXPECT_EQ(table_schema::parse_columns("bid:f64,n:i64"),
            (std::vector<table_column>{{"bid", column_type::real}, {"n", column_type::integer}}));
  EXPECT_THROW(table_schema::parse_columns("bid:float"), std::invalid_argument);
}

TEST(Table, NumbersComeBackExactlyAndBadFieldsAreNamed) {
  table_schema s;
  s.columns = {{"x", column_type::real}, {"n", column_type::integer}};
  std::string payload;
  asp::data::encode_row(s, {"0.1", "-9223372036854775808"}, payload);
  std::vector<std::string> fields;
  asp::data::decode_row(s, payload, fields);
  EXPECT_EQ(fields, (std::vector<std::string>{"0.1", "-9223372036854775808"}));
  std::size_t failed = 99;
  payload.clear();
  try {
    asp::data::encode_row(s, {"1", "2.5"}, payload, &failed);
    ADD_FAILURE();
  } catch (const asp::input_error& e) {
    EXPECT_EQ(std::string(e.what()), "column 'n': expected an integer, found '2.5'");
    EXPECT_EQ(failed, 1u);
  }
  EXPECT_THROW(asp::data::decode_row(s, "short", fields), asp::input_error);
}

// Plain rows are encoded in place and quoted ones through the tokenizer, to the same payloads;
// a line break inside quotes stays in its field whichever column it is in.
TEST(Table, PlainAndQuotedRowsEncodeAlike) {
  temp_dir dir;
  const std::string path = dir.write("p.csv",
                                     "time,bid,name,note\n"
                                     "2025-01-01,1.5,plain,x\n"
                                     "2025-01-02,2,\"quoted, name\",\"two\nlines\"\r\n"
                                     "2025-01-03,-3,last,\"\"\n");
  asp::data::csv_table table(path);
  EXPECT_EQ(table.schema().to_string(), "table time=iso8601@0 bid:f64,name:text,note:text");
  std::vector<std::vector<std::string>> got;
  std::vector<asp::time_point> times;
  std::vector<std::string> fields;
  for (const auto& e : table) {
    asp::data::decode_row(table.schema(), e.value, fields);
    got.push_back(fields);
    times.push_back(e.time);
  }
  EXPECT_EQ(got,
            (std::vector<std::vector<std::string>>{
                {"1.5", "plain", "x"}, {"2", "quoted, name", "two\nlines"}, {"-3", "last", ""}}));
  EXPECT_EQ(times, (std::vector<asp::time_point>{t0, t0 + 24h, t0 + 48h}));
  EXPECT_EQ(table.report()->rows, 3u);
}

TEST(Table, GivenColumnsAreCheckedRowByRowWithTheirPlace) {
  temp_dir dir;
  const std::string path = dir.write("g.csv", "time,bid\n2025-01-01,1\n2025-01-02,x\n");
  asp::data::csv_table table(path, {.columns = {{"bid", column_type::real}}});
  auto it = table.begin();
  EXPECT_EQ((*it).time, t0);
  try {
    ++it;
    ADD_FAILURE();
  } catch (const asp::input_error& e) {
    EXPECT_EQ(std::string(e.what()), path + ":3:12: column 'bid': expected a number, found 'x'");
  }
}

// A file whose lines end in CR alone is refused at its header, not read as one row.
TEST(Table, LinesEndingInCarriageReturnsAloneAreRefusedAtTheHeader) {
  temp_dir dir;
  const std::string path = dir.write("mac.csv", "time,bid\r2025-01-01,1\r2025-01-02,2\r");
  EXPECT_EQ(input_error_of([&] { asp::data::csv_table table(path); }),
            path +
                ":1:9: a carriage return (CR) inside a row: lines that end in CR alone are not "
                "read (end them with LF or CRLF; a CR inside a field must be quoted)");
}

TEST(Table, CsvFieldsAreQuotedOnlyWhenTheyMustBe) {
  std::string line;
  asp::data::append_csv_field(line, "plain");
  line += ',';
  asp::data::append_csv_field(line, "a,b");
  line += ',';
  asp::data::append_csv_field(line, "say \"hi\"");
  line += ',';
  asp::data::append_csv_field(line, "two\nlines");
  EXPECT_EQ(line, "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\"");
}

}  // namespace

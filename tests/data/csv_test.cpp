// asp::data CSV sources: columns by name, RFC 4180 quoting, times, bad rows, and streams.
#include <asp/data/csv.hpp>

#include <asp/asp.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <tuple>
#include <vector>

#include "data/temp_file.hpp"
#include "test_support.hpp"

namespace {

using namespace asp::testing;
using asp::data::column;
using asp::data::csv_options;

struct quote {
  std::string symbol;
  double bid = 0;
  double ask = 0;
  std::int64_t size = 0;
  bool firm = false;
};

template <class Source>
auto all_of(Source& source) {
  std::vector<std::remove_cvref_t<decltype(*source.begin())>> out;
  for (const auto& e : source) out.push_back(e);
  return out;
}

struct Csv : ::testing::Test {
  temp_dir dir;
  auto quotes(const std::string& path, csv_options options = {}) {
    return asp::data::read_csv<quote>(path, std::move(options), column("symbol", &quote::symbol),
                                      column("bid", &quote::bid), column("ask", &quote::ask),
                                      column("size", &quote::size), column("firm", &quote::firm));
  }
};

TEST_F(Csv, ColumnsAreFoundByNameInAnyOrderAndOthersAreIgnored) {
  const std::string path = dir.write("q.csv",
                                     "venue,ask,time,symbol,size,bid,firm\n"
                                     "X,10.5,2025-01-01T00:00:01Z,ACME,100,10.25,true\n"
                                     "Y,11,2025-01-01T00:00:02.5Z,INIT,-3,10.75,0\n");
  auto source = quotes(path);
  const auto rows = all_of(source);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].time, t0 + 1s);
  EXPECT_EQ(rows[0].value.symbol, "ACME");
  EXPECT_EQ(rows[0].value.bid, 10.25);
  EXPECT_EQ(rows[0].value.ask, 10.5);
  EXPECT_EQ(rows[0].value.size, 100);
  EXPECT_TRUE(rows[0].value.firm);
  EXPECT_EQ(rows[1].time, t0 + 2500ms);
  EXPECT_EQ(rows[1].value.symbol, "INIT");
  EXPECT_EQ(rows[1].value.size, -3);
  EXPECT_FALSE(rows[1].value.firm);
  EXPECT_EQ(source.report()->rows, 2u);
}

TEST_F(Csv, TupleRowsAndEpochTimesInAStatedUnit) {
  const std::string path = dir.write("t.csv",
                                     "ts;price;qty\r\n"
                                     "1735689601500;1.5;7\r\n"
                                     "1735689602000;2;8\r\n");
  auto source = asp::data::read_csv_tuple<double, std::int64_t>(
      path, {"price", "qty"}, {.times = asp::data::time_format::epoch_millis, .delimiter = ';'});
  const auto rows = all_of(source);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].time, t0 + 1500ms);
  EXPECT_EQ(rows[0].value, std::make_tuple(1.5, std::int64_t{7}));
  EXPECT_EQ(rows[1].time, t0 + 2s);
  EXPECT_EQ(rows[1].value, std::make_tuple(2.0, std::int64_t{8}));
}

TEST_F(Csv, Rfc4180QuotingDelimitersNewlinesAndDoubledQuotes) {
  struct note {
    std::string text;
    std::string_view view;
  };
  const std::string path = dir.write("n.csv",
                                     "time,text,view\n"
                                     "2025-01-01T00:00:01Z,\"a, b\",\"plain\"\n"
                                     "2025-01-01T00:00:02Z,\"two\nlines\",\"say \"\"hi\"\"\"\n"
                                     "2025-01-01T00:00:03Z,,\"\"\n");
  auto source =
      asp::data::read_csv<note>(path, {}, column("text", &note::text), column("view", &note::view));
  std::vector<std::pair<std::string, std::string>> got;
  for (const auto& e : source) got.emplace_back(e.value.text, std::string(e.value.view));
  EXPECT_EQ(got, (std::vector<std::pair<std::string, std::string>>{
                     {"a, b", "plain"}, {"two\nlines", "say \"hi\""}, {"", ""}}));
}

TEST_F(Csv, StringViewsStayValidWhileTheSourceLives) {
  struct row {
    std::string_view v;
  };
  const std::string path = dir.write("v.csv", "time,v\n2025-01-01,\"x\"\"y\"\n2025-01-02,z\n");
  auto source = asp::data::read_csv<row>(path, {}, column("v", &row::v));
  std::vector<std::string_view> views;
  for (const auto& e : source) views.push_back(e.value.v);
  EXPECT_EQ(views, (std::vector<std::string_view>{"x\"y", "z"}));
}

TEST_F(Csv, ByteOrderMarkEmptyLinesAndNoFinalNewline) {
  const std::string path = dir.write("b.csv",
                                     "\xEF\xBB\xBFtime,symbol,bid,ask,size,firm\n\n"
                                     "2025-01-01T00:00:01Z,A,1,2,3,1\n\r\n"
                                     "2025-01-01T00:00:02Z,B,1,2,3,0");
  auto source = quotes(path);
  const auto rows = all_of(source);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].value.symbol, "B");
}

TEST_F(Csv, ABadFieldNamesFileLineColumnTheColumnAndWhatWasFound) {
  const std::string path = dir.write("bad.csv",
                                     "time,symbol,bid,ask,size,firm\n"
                                     "2025-01-01T00:00:01Z,A,1,2,3,1\n"
                                     "2025-01-01T00:00:02Z,B,n/a,2,3,1\n");
  auto source = quotes(path);
  EXPECT_EQ(input_error_of([&] { all_of(source); }),
            path + ":3:24: column 'bid': expected a number, found 'n/a'");
}

TEST_F(Csv, EveryKindOfBadRowIsNamed) {
  auto first_error = [&](const std::string& body) {
    const std::string path = dir.write("e.csv", "time,symbol,bid,ask,size,firm\n" + body);
    auto source = quotes(path);
    return input_error_of([&] { all_of(source); }).substr(path.size());
  };
  EXPECT_EQ(first_error("2025-01-01T00:00:01Z,A,1,2,3\n"), ":2: 5 fields, the header has 6");
  EXPECT_EQ(first_error("2025-13-01,A,1,2,3,1\n"),
            ":2:1: column 'time': expected a time (iso8601; no such date: 2025-13-01), found "
            "'2025-13-01'");
  EXPECT_EQ(first_error("2025-01-01,A,1,2,3.5,1\n"),
            ":2:18: column 'size': expected an integer, found '3.5'");
  EXPECT_EQ(first_error("2025-01-01,A,1,2,3,yes\n"),
            ":2:20: column 'firm': expected true or false (or 1 or 0), found 'yes'");
  EXPECT_EQ(first_error("2025-01-01,A,1,2,,1\n"),
            ":2:18: column 'size': expected an integer, found an empty field");
  EXPECT_EQ(first_error("2025-01-01,A,1,2,3,\n"),
            ":2:20: column 'firm': expected true or false (or 1 or 0), found an empty field");
  EXPECT_EQ(first_error("2025-01-01,\"A\"x,1,2,3,1\n"),
            ":2:15: expected a delimiter or the end of the line after a closing quote, found 'x'");
  EXPECT_EQ(first_error("2025-01-01,A,1,2,3,1\n2025-01-02,\"B,1,2,3,1\n"),
            ":3:12: a quoted field is not closed before the end of the file");
}

// An empty field of a floating-point column is a missing value, NaN, as pandas writes NaN:
// read in place and through the tokenizer (a quoted field in the row) alike.
TEST_F(Csv, AnEmptyFloatingPointFieldIsAMissingValue) {
  const std::string path = dir.write("m.csv",
                                     "time,symbol,bid,ask,size,firm\n"
                                     "2025-01-01T00:00:01Z,A,,2.5,3,1\n"
                                     "2025-01-01T00:00:02Z,\"B\",1.5,,4,0\n"
                                     "2025-01-01T00:00:03Z,C,nan,inf,5,1\n");
  auto source = quotes(path);
  const auto rows = all_of(source);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_TRUE(std::isnan(rows[0].value.bid));
  EXPECT_EQ(rows[0].value.ask, 2.5);
  EXPECT_EQ(rows[1].value.bid, 1.5);
  EXPECT_TRUE(std::isnan(rows[1].value.ask));
  EXPECT_EQ(rows[1].value.size, 4);
  EXPECT_TRUE(std::isnan(rows[2].value.bid));
  EXPECT_EQ(rows[2].value.ask, std::numeric_limits<double>::infinity());
}

// Lines that end in CR alone (classic Mac OS) would read as one header that swallows every
// row: the header is refused by its place, and so is a bare CR inside a later row, whether the
// row is read in place or by the tokenizer; CRLF and a CR inside quotes stay fine.
TEST_F(Csv, ACarriageReturnThatEndsNoLineIsNamedNeverSwallowsRows) {
  const std::string mac = dir.write("mac.csv",
                                    "time,symbol,bid,ask,size,firm\r"
                                    "2025-01-01T00:00:01Z,A,1,2,3,1\r"
                                    "2025-01-01T00:00:02Z,B,1,2,3,1\r");
  const std::string cr_message =
      ": a carriage return (CR) inside a row: lines that end in CR alone are not read (end "
      "them with LF or CRLF; a CR inside a field must be quoted)";
  EXPECT_EQ(input_error_of([&] { quotes(mac); }), mac + ":1:30" + cr_message);
  EXPECT_EQ(input_error_of([&] { asp::data::read_csv_tuple<std::string>(mac, {"symbol"}); }),
            mac + ":1:30" + cr_message);

  auto first_error = [&](const std::string& body) {
    const std::string path = dir.write("e.csv", "time,symbol,bid,ask,size,firm\n" + body);
    auto source = quotes(path);
    return input_error_of([&] { all_of(source); }).substr(path.size());
  };
  EXPECT_EQ(first_error("2025-01-01,A,1,2,3,1\r2025-01-02,B,1,2,3,1\n"), ":2:21" + cr_message);
  EXPECT_EQ(first_error("2025-01-01,A\rB,1,2,3,1\n"), ":2:13" + cr_message);

  const std::string fine = dir.write("fine.csv",
                                     "time,symbol,bid,ask,size,firm\r\n"
                                     "2025-01-01T00:00:01Z,\"A\rB\",1,2,3,1\r\n");
  auto source = quotes(fine);
  const auto rows = all_of(source);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].value.symbol, "A\rB");

  // Skipped under bad_rows::skip like any bad row: counted, and the rows around it kept.
  const std::string mixed = dir.write("mixed.csv",
                                      "time,symbol,bid,ask,size,firm\n"
                                      "2025-01-01T00:00:01Z,A,1,2,3,1\n"
                                      "2025-01-01T00:00:02Z,B\r,1,2,3,1\n"
                                      "2025-01-01T00:00:03Z,C,1,2,3,1\n");
  auto skipping = quotes(mixed, {.on_bad_row = asp::data::bad_rows::skip});
  const auto kept = all_of(skipping);
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[1].value.symbol, "C");
  EXPECT_EQ(skipping.report()->skipped, 1u);
  EXPECT_EQ(skipping.report()->first_skipped.at(0), mixed + ":3:23" + cr_message);
}

TEST_F(Csv, AMissingColumnOrFileIsNamedAtOnce) {
  const std::string path = dir.write("h.csv", "time,symbol,bid\n");
  EXPECT_EQ(input_error_of([&] { quotes(path); }),
            path + ":1: no column 'ask' in the header ('time', 'symbol', 'bid')");
  const std::string untimed = dir.write("u.csv", "when,symbol\n");
  EXPECT_EQ(input_error_of([&] { asp::data::read_csv_tuple<std::string>(untimed, {"symbol"}); }),
            untimed +
                ":1: no time column: none of 'time', 'timestamp', 'ts' in the header ('when', "
                "'symbol'); name it with csv_options::time_column");
  EXPECT_EQ(
      input_error_of([&] { asp::data::read_csv_tuple<std::string>(dir.path("none.csv"), {"x"}); }),
      "cannot open " + dir.path("none.csv") + ": No such file or directory");
  const std::string empty = dir.write("empty.csv", "");
  EXPECT_EQ(input_error_of([&] { asp::data::read_csv_tuple<std::string>(empty, {"x"}); }),
            empty + ": no header row (the file is empty)");
}

TEST_F(Csv, SkippingBadRowsCountsThemAndKeepsTheFirstMessages) {
  const std::string path = dir.write("s.csv",
                                     "time,symbol,bid,ask,size,firm\n"
                                     "2025-01-01T00:00:01Z,A,1,2,3,1\n"
                                     "2025-01-01T00:00:02Z,B,x,2,3,1\n"
                                     "2025-01-01T00:00:03Z,C,1,2\n"
                                     "2025-01-01T00:00:04Z,\"D\"?,1,2,3,1\n"
                                     "2025-01-01T00:00:05Z,E,1,2,3,1\n");
  auto source = quotes(path, {.on_bad_row = asp::data::bad_rows::skip, .report_skipped = 2});
  const auto report = source.report();
  std::vector<std::string> symbols;
  for (const auto& e : source) symbols.push_back(e.value.symbol);
  EXPECT_EQ(symbols, (std::vector<std::string>{"A", "E"}));
  EXPECT_EQ(report->rows, 2u);
  EXPECT_EQ(report->skipped, 3u);
  EXPECT_EQ(report->first_skipped,
            (std::vector<std::string>{path + ":3:24: column 'bid': expected a number, found 'x'",
                                      path + ":4: 4 fields, the header has 6"}));
}

TEST_F(Csv, AFileIsAPastSourceOfAStreamAndItsErrorNamesTheStreamToo) {
  const std::string path = dir.write("p.csv",
                                     "time,symbol,bid,ask,size,firm\n"
                                     "2025-01-01T00:00:01Z,A,1,2,3,1\n"
                                     "2025-01-01T00:00:02Z,B,1.5,2,3,1\n"
                                     "2025-01-01T00:00:03Z,C,oops,2,3,1\n");
  manual_loop m;
  std::vector<std::string> seen;
  auto on_quote = [&](asp::time_point t, const quote& q) {
    seen.push_back(q.symbol + "@" + std::to_string(secs(t)) + " now " +
                   std::to_string(secs(asp::now())));
  };
  const asp::run_error e = run_error_of([&] {
    m.loop.run({}, asp::process_stream(on_quote, quotes(path), asp::none, {.name = "q"}));
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"A@1.000000 now 1.000000", "B@2.000000 now 2.000000"}));
  EXPECT_NE(std::string(e.what()).find("stream 'q'"), std::string::npos) << e.what();
  EXPECT_NE(
      std::string(e.what()).find(path + ":4:24: column 'bid': expected a number, found 'oops'"),
      std::string::npos)
      << e.what();
}

TEST_F(Csv, TimeColumnsInsideTheRowAndANamedTimeColumn) {
  struct fill {
    asp::time_point sent;
  };
  const std::string path =
      dir.write("f.csv", "at,sent\n2025-01-01T00:00:05Z,2025-01-01T00:00:04Z\n");
  auto source = asp::data::read_csv<fill>(path, {.time_column = "at"}, column("sent", &fill::sent));
  const auto rows = all_of(source);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].time, t0 + 5s);
  EXPECT_EQ(rows[0].value.sent, t0 + 4s);
}

TEST_F(Csv, PlainAndQuotedRowsMixAndEveryLineEndingWorks) {
  struct row {
    std::int64_t n = 0;
    std::string name;
    double x = 0;
  };
  // Rows read in place (plain) and rows the tokenizer reads (quotes), in any order; an unbound
  // column holding a delimiter in quotes; CRLF and LF; integers at their limits.
  const std::string path = dir.write("m.csv",
                                     "time,n,skip,name,x\r\n"
                                     "2025-01-01,9223372036854775807,\"a,b\",plain,1.5\r\n"
                                     "2025-01-02,-9223372036854775808,c,\"quoted, name\",2\n"
                                     "2025-01-03,0,,last,-0.25");
  auto source = asp::data::read_csv<row>(path, {}, column("n", &row::n), column("name", &row::name),
                                         column("x", &row::x));
  std::vector<std::tuple<std::int64_t, std::string, double>> got;
  for (const auto& e : source) got.emplace_back(e.value.n, e.value.name, e.value.x);
  EXPECT_EQ(got,
            (std::vector<std::tuple<std::int64_t, std::string, double>>{
                {INT64_MAX, "plain", 1.5}, {INT64_MIN, "quoted, name", 2}, {0, "last", -0.25}}));
}

// A quoted field may hold a line break in any column, bound or not: the row in place never
// ends at a newline inside quotes (an unbound last column once did, and the rest of the field
// read as a row of its own).
TEST_F(Csv, AQuotedLineBreakInAColumnNotBoundStaysInsideItsRow) {
  struct row {
    double x = 0;
  };
  const std::string path = dir.write("n.csv",
                                     "time,x,note\n"
                                     "2025-01-01,1.5,\"two\nlines\"\n"
                                     "2025-01-02,2,plain\n"
                                     "2025-01-03,3,\"a \"\"quote\"\"\r\nand a CRLF\"\r\n");
  auto source = asp::data::read_csv<row>(path, {}, column("x", &row::x));
  std::vector<std::pair<asp::time_point, double>> got;
  for (const auto& e : source) got.emplace_back(e.time, e.value.x);
  EXPECT_EQ(got, (std::vector<std::pair<asp::time_point, double>>{
                     {t0, 1.5}, {t0 + 24h, 2}, {t0 + 48h, 3}}));
  EXPECT_EQ(source.report()->rows, 3u);
}

TEST_F(Csv, IntegersOutOfRangeAndExtraFieldsAreNamed) {
  auto first_error = [&](const std::string& body) {
    const std::string path = dir.write("r.csv", "time,n\n" + body);
    auto source = asp::data::read_csv_tuple<std::int64_t>(path, {"n"});
    return input_error_of([&] { all_of(source); }).substr(path.size());
  };
  EXPECT_EQ(first_error("2025-01-01,9223372036854775808\n"),
            ":2:12: column 'n': expected an integer, found '9223372036854775808'");
  EXPECT_EQ(first_error("2025-01-01,+1\n"), ":2:12: column 'n': expected an integer, found '+1'");
  EXPECT_EQ(first_error("2025-01-01,1,2\n"), ":2: 3 fields, the header has 2");
  EXPECT_EQ(first_error("2025-01-01,1 \n"), ":2:12: column 'n': expected an integer, found '1 '");
}

}  // namespace

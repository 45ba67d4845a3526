// Fuzzes the CSV readers on any bytes: typed rows (read in place and by the tokenizer), both
// bad-row policies, and tables with inferred types. Only asp::input_error may come out, and
// the two policies must agree on the good rows.
#include <asp/data/csv.hpp>
#include <asp/data/table.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "fuzz_file.hpp"

namespace {

struct row {
  std::int64_t n = 0;
  double x = 0;
  bool flag = false;
  std::string text;
  std::string_view view;
};

std::vector<std::string> good_rows(const std::string& path, asp::data::bad_rows policy) {
  std::vector<std::string> out;
  try {
    auto source = asp::data::read_csv<row>(
        path,
        {.time_column = "t", .times = asp::data::time_format::epoch_millis, .on_bad_row = policy},
        asp::data::column("n", &row::n), asp::data::column("x", &row::x),
        asp::data::column("flag", &row::flag), asp::data::column("text", &row::text),
        asp::data::column("view", &row::view));
    for (const auto& e : source) {
      out.push_back(std::to_string(e.time.time_since_epoch().count()) + "|" +
                    std::to_string(e.value.n) + "|" + std::to_string(e.value.x) + "|" +
                    (e.value.flag ? "1" : "0") + "|" + e.value.text + "|" +
                    std::string(e.value.view));
    }
  } catch (const asp::input_error&) {
    out.push_back("<error>");
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const asp::fuzz::memory_file file(data, size);
  const std::vector<std::string> strict = good_rows(file.path(), asp::data::bad_rows::fail);
  const std::vector<std::string> lenient = good_rows(file.path(), asp::data::bad_rows::skip);
  // Until its first bad row, failing and skipping deliver the same rows.
  for (std::size_t i = 0; i < strict.size() && strict[i] != "<error>"; ++i) {
    if (i >= lenient.size() || strict[i] != lenient[i]) std::abort();
  }
  try {
    asp::data::csv_table table(file.path(), {.csv = {.on_bad_row = asp::data::bad_rows::skip}});
    std::vector<std::string> fields;
    for (const auto& e : table) asp::data::decode_row(table.schema(), e.value, fields);
  } catch (const asp::input_error&) {
  }
  return 0;
}

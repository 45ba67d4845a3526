// Datasets: a recording split into files reads exactly as the one file it would have been —
// split at every record boundary, compressed or not, out of order across streams, with ties,
// through the merged reader and a log_file's typed sources, seeking by time across the files —
// and a writer splits by size and by event-time duration without losing, repeating or
// reordering a record.
#include <asp/data/log.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "data/log_model.hpp"
#include "data/temp_file.hpp"
#include "test_support.hpp"

namespace {

using namespace asp::testing;
using asp::data::log_file;
using asp::data::log_read_options;
using asp::data::log_reader;
using asp::data::log_stream;
using asp::data::log_writer;
using asp::data::read_ahead;

namespace fs = std::filesystem;

// Writes records [cuts[k], cuts[k+1]) into the dataset file k of `dir`.
void write_split(const std::string& dir, const std::vector<written>& records,
                 const std::vector<std::size_t>& cuts, std::uint16_t streams, int zstd_level) {
  fs::create_directories(dir);
  for (std::size_t k = 0; k + 1 < cuts.size(); ++k) {
    char name[32];
    std::snprintf(name, sizeof name, "%08zu.asplog", k);
    const std::vector<written> part(records.begin() + static_cast<std::ptrdiff_t>(cuts[k]),
                                    records.begin() + static_cast<std::ptrdiff_t>(cuts[k + 1]));
    write_file((fs::path(dir) / name).string(), part, streams, zstd_level, 4);
  }
}

// What each stream of a log_file's typed sources delivers, the streams read one after another.
std::vector<std::string> read_typed(log_file& file, std::uint16_t streams) {
  std::vector<std::string> out;
  std::vector<asp::data::shared_log_source<std::string>> sources;
  for (std::uint16_t s = 0; s < streams; ++s) {
    sources.push_back(file.source<std::string>("s" + std::to_string(s)));
  }
  for (std::uint16_t s = 0; s < streams; ++s) {
    for (const auto& e : sources[s]) out.push_back(line(s, (e.time - t0).count(), e.value));
  }
  return out;
}

std::vector<std::string> model_typed(const std::vector<written>& records, std::uint16_t streams) {
  std::vector<std::string> out;
  for (std::uint16_t s = 0; s < streams; ++s) {
    std::vector<bool> only(streams);
    only[s] = true;
    const std::vector<std::string> one = model(records, only, std::nullopt, std::nullopt);
    out.insert(out.end(), one.begin(), one.end());
  }
  return out;
}

struct Dataset : ::testing::Test {
  temp_dir dir;
};

// Every two-file split and the one-record-per-file split, for every way of reading.
TEST_F(Dataset, ASplitAtEveryRecordReadsAsTheWholeFile) {
  constexpr std::uint16_t streams = 3;
  for (const std::int64_t disorder : {0, 9}) {
    const std::vector<written> records = make_records(48, streams, disorder, 5);
    std::vector<std::vector<std::size_t>> splits;
    for (std::size_t c = 1; c < records.size(); ++c) splits.push_back({0, c, records.size()});
    std::vector<std::size_t> each;
    for (std::size_t i = 0; i <= records.size(); ++i) each.push_back(i);
    splits.push_back(each);
    for (const int zstd_level : {0, 3}) {
      for (std::size_t k = 0; k < splits.size(); ++k) {
        const std::string set = dir.path("d" + std::to_string(disorder) + "z" +
                                         std::to_string(zstd_level) + "k" + std::to_string(k));
        write_split(set, records, splits[k], streams, zstd_level);
        const std::string where = set + " (" + std::to_string(splits[k].size() - 1) + " files)";
        for (const auto& [start, end] :
             std::vector<std::pair<std::optional<std::int64_t>, std::optional<std::int64_t>>>{
                 {std::nullopt, std::nullopt}, {20, std::nullopt}, {std::nullopt, 30}, {12, 40}}) {
          for (const std::vector<bool>& selected :
               std::vector<std::vector<bool>>{{true, true, true}, {false, true, true}}) {
            log_read_options options;
            if (start) options.start = t0 + std::chrono::nanoseconds(*start);
            if (end) options.end = t0 + std::chrono::nanoseconds(*end);
            for (std::uint16_t s = 0; s < streams; ++s) {
              if (selected[s]) options.streams.push_back("s" + std::to_string(s));
            }
            log_reader reader(set, options);
            ASSERT_EQ(read_all(reader), model(records, selected, start, end))
                << where << ", start " << start.value_or(-1) << ", end " << end.value_or(-1)
                << ", streams " << options.streams.size();
          }
        }
        // Streams detached from the shared scan (no record held) and read ahead on a thread.
        log_reader tight(set, {.ahead = read_ahead::thread, .max_held = 0});
        ASSERT_EQ(read_all(tight), model(records, {true, true, true}, std::nullopt, std::nullopt))
            << where;
        log_file typed(set, {.max_held = k % 2 == 0 ? std::size_t{1} << 20 : 1});
        ASSERT_EQ(read_typed(typed, streams), model_typed(records, streams)) << where;
      }
    }
  }
}

// A list of logs is a dataset too, in the list's order; a record says which file it is in.
TEST_F(Dataset, AListOfLogsReadsInItsOrderAndRecordsSayTheirFile) {
  const std::vector<written> records = make_records(30, 2, 0, 3);
  write_split(dir.path("set"), records, {0, 10, 30}, 2, 0);
  const std::string first = dir.path("set/00000000.asplog");
  const std::string second = dir.path("set/00000001.asplog");
  log_reader reader(std::vector<std::string>{first, second});
  EXPECT_EQ(reader.files(), (std::vector<std::string>{first, second}));
  std::vector<std::uint32_t> files;
  for (const auto& e : reader) files.push_back(e.value.file);
  std::vector<std::uint32_t> expected(10, 0);
  expected.resize(30, 1);
  EXPECT_EQ(files, expected);
  EXPECT_EQ(reader.report()->records, 30u);
  EXPECT_EQ(reader.file(1), second);
}

// The time range comes from the indexes: the earliest and latest record of every stream of
// every file, whatever the reader selects; none for a file without records, or whose tail is
// torn (not indexed).
TEST_F(Dataset, TheTimeRangeIsTheIndexesEarliestAndLatest) {
  const std::vector<written> records = make_records(40, 3, 9, 7);
  std::int64_t lo = records.front().ns;
  std::int64_t hi = lo;
  for (const written& w : records) {
    lo = std::min(lo, w.ns);
    hi = std::max(hi, w.ns);
  }
  const auto at = [](std::int64_t ns) { return t0 + std::chrono::nanoseconds(ns); };
  for (const int zstd_level : {0, 3}) {
    const std::string one = dir.path("one" + std::to_string(zstd_level) + ".asplog");
    write_file(one, records, 3, zstd_level, 4);
    EXPECT_EQ(log_reader(one).time_range(), std::pair(at(lo), at(hi)));
    EXPECT_EQ(log_reader(one, {.start = at(hi), .streams = {"s1"}}).time_range(),
              std::pair(at(lo), at(hi)));
    const std::string set = dir.path("set" + std::to_string(zstd_level));
    write_split(set, records, {0, 13, 27, 40}, 3, zstd_level);
    EXPECT_EQ(log_reader(set).time_range(), std::pair(at(lo), at(hi)));
  }
  const std::string empty = dir.path("empty.asplog");
  write_file(empty, {}, 1, 0, 4);
  EXPECT_EQ(log_reader(empty).time_range(), std::nullopt);
  // A torn tail: the range is not known from the index alone.
  const std::string torn = dir.path("torn.asplog");
  write_file(torn, records, 3, 0, 4);
  fs::resize_file(torn, fs::file_size(torn) - 3);
  EXPECT_EQ(log_reader(torn).time_range(), std::nullopt);
}

// Streams are matched by name across the files, whatever their ids in each.
TEST_F(Dataset, StreamsAreMatchedByNameAcrossFiles) {
  fs::create_directories(dir.path("set"));
  {
    log_writer a(dir.path("set/a.asplog"), {{"x", "int"}, {"y", "text"}});
    a.write(0, t0 + std::chrono::nanoseconds(1), "x1");
    a.write(1, t0 + std::chrono::nanoseconds(2), "y2");
    log_writer b(dir.path("set/b.asplog"), {{"z", ""}, {"y", "text"}});
    b.write(1, t0 + std::chrono::nanoseconds(3), "y3");
    b.write(0, t0 + std::chrono::nanoseconds(4), "z4");
  }
  log_reader reader(dir.path("set"));
  ASSERT_EQ(reader.streams().size(), 3u);
  EXPECT_EQ(reader.streams()[0], (log_stream{"x", "int"}));
  EXPECT_EQ(reader.streams()[1], (log_stream{"y", "text"}));
  EXPECT_EQ(reader.streams()[2], (log_stream{"z", ""}));
  std::vector<std::string> got;
  for (const auto& e : reader)
    got.push_back(line(e.value.stream, (e.time - t0).count(), e.value.payload));
  EXPECT_EQ(got, (std::vector<std::string>{"0@1=x1", "1@2=y2", "1@3=y3", "2@4=z4"}));

  log_file file(dir.path("set"));
  std::vector<std::string> ys;
  for (const auto& e : file.source<std::string>("y")) ys.push_back(e.value);
  EXPECT_EQ(ys, (std::vector<std::string>{"y2", "y3"}));

  EXPECT_EQ(input_error_of([&] { log_reader(dir.path("set"), {.streams = {"w"}}); }),
            dir.path("set") + ": no stream 'w' (the dataset has 'x', 'y', 'z')");
}

TEST_F(Dataset, AStreamWhoseSchemaChangesBetweenFilesIsAnError) {
  fs::create_directories(dir.path("set"));
  log_writer(dir.path("set/a.asplog"), {{"x", "price:f64"}}).close();
  log_writer(dir.path("set/b.asplog"), {{"x", "price:i64"}}).close();
  EXPECT_EQ(input_error_of([&] { log_reader r(dir.path("set")); }),
            dir.path("set/b.asplog") + ": stream 'x' has the schema 'price:i64', but in " +
                dir.path("set/a.asplog") + " it has 'price:f64'");
}

TEST_F(Dataset, ADirectoryWithoutLogsIsAnError) {
  fs::create_directories(dir.path("empty"));
  dir.write("empty/notes.txt", "not a log");
  EXPECT_EQ(input_error_of([&] { log_reader r(dir.path("empty")); }),
            dir.path("empty") + ": no record logs (*.asplog) in the directory");
}

// A middle file cut short (a recorder killed, the recording started again in the same
// directory): its torn tail is reported with its file, and everything whole is read.
TEST_F(Dataset, ATornFileInTheMiddleKeepsEverythingWhole) {
  const std::vector<written> records = make_records(30, 2, 0, 8);
  write_split(dir.path("set"), records, {0, 10, 20, 30}, 2, 0);
  const std::string middle = dir.path("set/00000001.asplog");
  const auto size = fs::file_size(middle);
  fs::resize_file(middle, size - 3);  // the last record of the middle file, cut
  std::vector<written> whole = records;
  whole.erase(whole.begin() + 19);
  log_reader reader(dir.path("set"));
  EXPECT_EQ(read_all(reader), model(whole, {true, true}, std::nullopt, std::nullopt));
  ASSERT_TRUE(reader.report()->torn.has_value());
  EXPECT_EQ(reader.report()->torn->file, middle);
  EXPECT_EQ(reader.report()->torn->offset + reader.report()->torn->bytes, size - 3);
}

// Records 1 ms apart, a file per 10 ms of event time: each file holds exactly its ten.
TEST_F(Dataset, AWriterSplitsByEventTimeDuration) {
  const std::string set = dir.path("by-time");
  {
    log_writer w(set, {{"x", "text"}}, {.split = {.duration = std::chrono::milliseconds(10)}});
    for (int i = 0; i < 95; ++i) {
      w.write(0, t0 + std::chrono::milliseconds(i), "r" + std::to_string(i));
      EXPECT_EQ(w.files(), static_cast<std::uint64_t>(i / 10 + 1));
    }
    EXPECT_EQ(w.path(), set);
    EXPECT_EQ(w.file(), set + "/00000009.asplog");
    w.close();
    EXPECT_EQ(w.acknowledged(), 95u);
  }
  for (int k = 0; k < 10; ++k) {
    char name[32];
    std::snprintf(name, sizeof name, "/%08d.asplog", k);
    log_reader file(set + name);
    std::vector<std::int64_t> times;
    for (const auto& e : file) times.push_back((e.time - t0) / std::chrono::milliseconds(1));
    std::vector<std::int64_t> expected;
    for (int i = k * 10; i < std::min(95, k * 10 + 10); ++i) expected.push_back(i);
    EXPECT_EQ(times, expected) << name;
  }
  log_reader all(set);
  std::int64_t n = 0;
  for (const auto& e : all) {
    EXPECT_EQ(e.value.payload, "r" + std::to_string(n));
    ++n;
  }
  EXPECT_EQ(n, 95);
  EXPECT_EQ(all.files().size(), 10u);
}

// By size, compressed or not: no file passes the limit, and the dataset reads back whole, in
// order, with every record once. Uncompressed, each file ended because its next record would
// not fit.
TEST_F(Dataset, AWriterSplitsBySize) {
  const std::vector<written> records = make_records(2000, 3, 6, 21);
  for (const int zstd_level : {0, 3}) {
    const std::string set = dir.path("by-size" + std::to_string(zstd_level));
    std::uint64_t files = 0;
    {
      log_writer w(set, {{"s0"}, {"s1"}, {"s2"}},
                   {.chunk_records = 16, .zstd_level = zstd_level, .split = {.bytes = 8192}});
      for (const written& r : records)
        w.write(r.stream, t0 + std::chrono::nanoseconds(r.ns), r.payload);
      files = w.files();
    }
    EXPECT_GT(files, 1u);
    std::uint64_t seen = 0;
    for (const auto& entry : fs::directory_iterator(set)) {
      if (entry.path().extension() != ".asplog") continue;
      ++seen;
      EXPECT_LE(fs::file_size(entry.path()), 8192u) << entry.path();
    }
    EXPECT_EQ(seen, files);
    if (zstd_level == 0) {
      const std::vector<std::string> names = log_reader(set).files();
      for (std::size_t k = 0; k + 1 < names.size(); ++k) {
        log_reader next(names[k + 1]);
        const std::size_t first = 8 + 10 + (*next.begin()).value.payload.size();
        EXPECT_GT(fs::file_size(names[k]) + first, 8192u) << names[k] << " ended early";
      }
    }
    log_reader reader(set);
    EXPECT_EQ(read_all(reader), model(records, {true, true, true}, std::nullopt, std::nullopt));
    EXPECT_EQ(reader.report()->index, asp::data::index_state::complete);
  }
}

// A dataset's directory that holds logs is not written over, unless asked; then its logs go.
TEST_F(Dataset, AWriterRefusesADirectoryWithLogsUnlessToldToOverwrite) {
  const std::string set = dir.path("set");
  {
    log_writer w(set, {{"x"}}, {.split = {.bytes = 100}});
    for (int i = 0; i < 10; ++i) w.write(0, t0 + std::chrono::seconds(i), "old");
  }
  try {
    log_writer again(set, {{"x"}}, {.split = {.bytes = 100}});
    ADD_FAILURE() << "no error";
  } catch (const std::system_error& e) {
    EXPECT_EQ(std::string(e.what()), "cannot create the dataset " + set +
                                         ": it holds logs already (00000000.asplog): File exists");
  }
  {
    log_writer w(set, {{"x"}}, {.overwrite = true, .split = {.bytes = 1 << 20}});
    w.write(0, t0, "new");
  }
  log_reader reader(set);
  std::vector<std::string> got;
  for (const auto& e : reader) got.emplace_back(e.value.payload);
  EXPECT_EQ(got, std::vector<std::string>{"new"});
  EXPECT_EQ(reader.files().size(), 1u);
}

}  // namespace

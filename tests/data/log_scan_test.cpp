// One scan for every stream of a record log: the merged reader and the typed sources of a
// log_file deliver exactly what a model of the merge says — each stream's records in file
// order, the streams merged by (time, record order) — on files in time order and out of it,
// with ties, compressed or not, read ahead on a thread or not, with a look-ahead budget small
// enough to make streams detach, from a start time, up to an end time, past corrupt records
// and torn tails, and on a file that shrinks while it is read.
#include <asp/data/log.hpp>

#include <asp/data/crc32c.hpp>

#include <asp/asp.hpp>

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "data/log_model.hpp"
#include "data/temp_file.hpp"
#include "test_support.hpp"

namespace {

using namespace asp::testing;
using asp::data::log_read_options;
using asp::data::log_reader;
using asp::data::log_writer;
using asp::data::read_ahead;

struct LogScan : ::testing::Test {
  temp_dir dir;
  std::string path = dir.path("r.asplog");
};

struct variant {
  int zstd_level;
  read_ahead ahead;
  std::size_t max_held;
};

const variant variants[] = {
    {0, read_ahead::none, std::size_t{1} << 20},
    {0, read_ahead::thread, std::size_t{1} << 20},
    {3, read_ahead::none, std::size_t{1} << 20},
    {3, read_ahead::thread, std::size_t{1} << 20},
    {0, read_ahead::none, 3},
    {3, read_ahead::thread, 3},
    {0, read_ahead::thread, 0},
    {0, read_ahead::automatic, std::size_t{1} << 20},
    {3, read_ahead::automatic, 3},
};

std::string describe(const variant& v) {
  return "zstd " + std::to_string(v.zstd_level) + ", read-ahead " +
         std::to_string(static_cast<int>(v.ahead)) + ", max_held " + std::to_string(v.max_held);
}

TEST_F(LogScan, EveryWayOfReadingMatchesTheModel) {
  for (const std::int64_t disorder : {0, 7, 40}) {
    const std::vector<written> records = make_records(3000, 5, disorder, 42);
    for (const variant& v : variants) {
      write_file(path, records, 5, v.zstd_level, 64);
      const std::vector<std::vector<bool>> selections = {{true, true, true, true, true},
                                                         {false, true, false, false, true},
                                                         {false, false, true, false, false}};
      for (const std::vector<bool>& selected : selections) {
        for (const auto& [start, end] :
             std::vector<std::pair<std::optional<std::int64_t>, std::optional<std::int64_t>>>{
                 {std::nullopt, std::nullopt},
                 {1500, std::nullopt},
                 {std::nullopt, 2000},
                 {800, 1200}}) {
          log_read_options options{.on_corrupt = asp::data::corrupt_records::fail,
                                   .ahead = v.ahead,
                                   .max_held = v.max_held};
          if (start) options.start = t0 + std::chrono::nanoseconds(*start);
          if (end) options.end = t0 + std::chrono::nanoseconds(*end);
          for (std::uint16_t s = 0; s < 5; ++s) {
            if (selected[s]) options.streams.push_back("s" + std::to_string(s));
          }
          log_reader reader(path, options);
          const std::vector<std::string> expected = model(records, selected, start, end);
          const std::vector<std::string> got = read_all(reader);
          for (std::size_t i = 0; i < std::min(got.size(), expected.size()); ++i) {
            if (got[i] != expected[i]) {
              ADD_FAILURE() << "first difference at #" << i << ": " << got[i] << " vs "
                            << expected[i] << " sizes " << got.size() << " " << expected.size();
              break;
            }
          }
          EXPECT_EQ(got, expected) << "disorder " << disorder << ", " << describe(v) << ", streams "
                                   << options.streams.size() << ", start " << start.value_or(-1)
                                   << ", end " << end.value_or(-1);
          EXPECT_EQ(reader.report()->records, expected.size());
        }
      }
    }
  }
}

// The typed sources of one log_file, read in any interleaving, each deliver their stream.
TEST_F(LogScan, TypedSourcesOfOneFileShareTheScan) {
  const std::vector<written> records = make_records(4000, 4, 25, 7);
  for (const variant& v : variants) {
    write_file(path, records, 4, v.zstd_level, 100);
    asp::data::log_file file(path, {.ahead = v.ahead, .max_held = v.max_held});
    std::vector<asp::data::shared_log_source<std::string>> sources;
    for (std::uint16_t s = 0; s < 4; ++s)
      sources.push_back(file.source<std::string>("s" + std::to_string(s)));
    // Read them in an order unrelated to time: stream 3 entirely first, then the others in turn.
    std::vector<std::vector<std::string>> got(4);
    auto take = [&](std::size_t s, auto& it) {
      got[s].push_back(line(static_cast<std::uint16_t>(s), ((*it).time - t0).count(), (*it).value));
    };
    {
      auto& src = sources[3];
      for (auto it = src.begin(); it != src.end(); ++it) take(3, it);
    }
    std::vector<decltype(sources[0].begin())> its;
    for (std::size_t s = 0; s < 3; ++s) its.push_back(sources[s].begin());
    for (bool more = true; more;) {
      more = false;
      for (std::size_t s = 0; s < 3; ++s) {
        if (its[s] == sources[s].end()) continue;
        take(s, its[s]);
        ++its[s];
        more = true;
      }
    }
    std::uint64_t total = 0;
    for (std::uint16_t s = 0; s < 4; ++s) {
      std::vector<bool> only(4);
      only[s] = true;
      EXPECT_EQ(got[s], model(records, only, std::nullopt, std::nullopt))
          << "stream " << s << ", " << describe(v);
      total += got[s].size();
    }
    EXPECT_EQ(file.report()->records, total);
    EXPECT_EQ(total, records.size());
  }
}

// Through the loop, K typed sources of one file give the same callbacks as K log_sources.
TEST_F(LogScan, TypedSourcesOnTheLoopGiveTheSameTraceAsSeparateReaders) {
  const std::vector<written> records = make_records(2000, 3, 10, 11);
  write_file(path, records, 3, 0, 50);
  auto run = [&](auto make_source) {
    manual_loop m;
    std::vector<std::string> trace;
    auto record = [&trace](int s) {
      return [&trace, s](asp::time_point t, const std::string& v) {
        trace.push_back(std::to_string(s) + "@" + std::to_string((t - t0).count()) + "=" + v);
      };
    };
    m.loop.run({},
               asp::process_stream(record(0), make_source("s0"), asp::none,
                                   {.order = asp::out_of_order::clamp}),
               asp::process_stream(record(1), make_source("s1"), asp::none,
                                   {.order = asp::out_of_order::clamp}),
               asp::process_stream(record(2), make_source("s2"), asp::none,
                                   {.order = asp::out_of_order::clamp}));
    return trace;
  };
  asp::data::log_file file(path, {.ahead = read_ahead::thread});
  const std::vector<std::string> shared =
      run([&](const std::string& name) { return file.source<std::string>(name); });
  const std::vector<std::string> separate =
      run([&](const std::string& name) { return asp::data::log_source<std::string>(path, name); });
  EXPECT_EQ(shared.size(), records.size());
  EXPECT_EQ(shared, separate);
}

TEST_F(LogScan, ASourceMadeAfterTheScanBeganReadsWithAScanOfItsOwn) {
  const std::vector<written> records = make_records(500, 2, 0, 3);
  write_file(path, records, 2, 0, 16);
  asp::data::log_file file(path);
  auto first = file.source<std::string>("s0");
  std::size_t n0 = 0;
  for (auto it = first.begin(); it != first.end(); ++it) ++n0;
  auto second = file.source<std::string>("s1");
  std::size_t n1 = 0;
  for (auto it = second.begin(); it != second.end(); ++it) ++n1;
  EXPECT_EQ(n0 + n1, records.size());
  EXPECT_EQ(n0, model(records, {true, false}, std::nullopt, std::nullopt).size());
  EXPECT_THROW((void)file.source<std::string>("s1"), std::logic_error);
  EXPECT_EQ(input_error_of([&] { (void)file.source<std::string>("nope"); }),
            path + ": no stream 'nope' (the file has 's0', 's1')");
}

// A stream whose records all come at the end of the file but are the earliest: the merge must
// wait for them. With a small budget the stream waited for gets a scan of its own, and the
// order stays exact.
TEST_F(LogScan, AStreamRecordedLastButEarliestIsMergedExactlyWithinTheBudget) {
  std::vector<written> records;
  for (int i = 0; i < 2000; ++i) records.push_back({0, 1000 + i, "late" + std::to_string(i)});
  for (int i = 0; i < 50; ++i) records.push_back({1, i * 40, "early" + std::to_string(i)});
  for (const variant& v : variants) {
    write_file(path, records, 2, v.zstd_level, 128);
    log_reader reader(path, {.ahead = v.ahead, .max_held = v.max_held});
    EXPECT_EQ(read_all(reader), model(records, {true, true}, std::nullopt, std::nullopt))
        << describe(v);
    asp::data::log_file file(path, {.ahead = v.ahead, .max_held = v.max_held});
    auto late = file.source<std::string>("s0");
    auto early = file.source<std::string>("s1");
    std::size_t n = 0;
    for (auto it = early.begin(); it != early.end(); ++it) ++n;
    for (auto it = late.begin(); it != late.end(); ++it) ++n;
    EXPECT_EQ(n, records.size()) << describe(v);
  }
}

// Corrupts the payload of the record that holds `needle` (its CRC then fails).
void corrupt_payload(const std::string& path, std::string_view needle) {
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  const std::size_t at = bytes.find(needle);
  ASSERT_NE(at, std::string::npos);
  bytes[at] = 'X';
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

TEST_F(LogScan, CorruptRecordsAreSkippedOrFailTheReadAfterWhatCameBefore) {
  const std::vector<written> records = make_records(1000, 3, 9, 5);
  for (const read_ahead ahead : {read_ahead::none, read_ahead::thread}) {
    write_file(path, records, 3, 0, 32);
    corrupt_payload(path, "p500");
    std::vector<written> without = records;
    without.erase(without.begin() + 500);
    log_reader skipping(path, {.on_corrupt = asp::data::corrupt_records::skip, .ahead = ahead});
    EXPECT_EQ(read_all(skipping), model(without, {true, true, true}, std::nullopt, std::nullopt));
    EXPECT_EQ(skipping.report()->corrupt_skipped, 1u);
    EXPECT_FALSE(skipping.report()->torn.has_value());

    log_reader failing(path, {.ahead = ahead});
    std::size_t delivered = 0;
    const std::string error = input_error_of([&] {
      for (const auto& e : failing) {
        (void)e;
        ++delivered;
      }
    });
    EXPECT_TRUE(error.starts_with(path + ": corrupt record at offset ")) << error;
    EXPECT_NE(error.find("(bad size or CRC; the next valid record is at offset "),
              std::string::npos)
        << error;
    EXPECT_GT(delivered, 0u);
    EXPECT_LT(delivered, records.size());
  }
}

TEST_F(LogScan, ATornTailEndsEveryStreamAfterItsLastCompleteRecord) {
  const std::vector<written> records = make_records(600, 3, 5, 9);
  for (const read_ahead ahead : {read_ahead::none, read_ahead::thread}) {
    write_file(path, records, 3, 0, 1 << 20);
    std::filesystem::remove(path + ".idx");
    const auto size = std::filesystem::file_size(path);
    std::filesystem::resize_file(path, size - 3);  // the last record is cut short
    std::vector<written> complete = records;
    complete.pop_back();
    log_reader reader(path, {.ahead = ahead});
    EXPECT_EQ(read_all(reader), model(complete, {true, true, true}, std::nullopt, std::nullopt));
    ASSERT_TRUE(reader.report()->torn.has_value());
    EXPECT_EQ(reader.report()->torn->offset + reader.report()->torn->bytes, size - 3);
    EXPECT_EQ(reader.report()->index, asp::data::index_state::missing);
  }
}

// The reader reads with pread, not a mapping: a file cut short under it ends in a torn tail,
// never a signal.
TEST_F(LogScan, AFileThatShrinksWhileItIsReadEndsInATornTail) {
  std::vector<written> records;
  for (int i = 0; i < 200'000; ++i)
    records.push_back({0, i, "payload of record " + std::to_string(i)});
  write_file(path, records, 1, 0, 4096);
  log_reader reader(path, {.ahead = read_ahead::none});
  std::size_t delivered = 0;
  for (const auto& e : reader) {
    (void)e;
    if (++delivered == 10) std::filesystem::resize_file(path, std::filesystem::file_size(path) / 2);
  }
  EXPECT_GT(delivered, 10u);
  EXPECT_LT(delivered, records.size());
  ASSERT_TRUE(reader.report()->torn.has_value());
}

// The merge relies on the index's earliest times: an index entry that claims a chunk starts
// later than one of its records (with a valid checksum) stops the read, naming both.
TEST_F(LogScan, AnIndexThatContradictsItsRecordsStopsTheRead) {
  std::vector<written> records;
  for (int i = 0; i < 100; ++i) records.push_back({static_cast<std::uint16_t>(i % 2), i, "v"});
  write_file(path, records, 2, 0, 10);
  std::string index;
  {
    std::ifstream in(path + ".idx", std::ios::binary);
    index.assign(std::istreambuf_iterator<char>(in), {});
  }
  // The third chunk (records 20 to 29) now claims to start at 25 ns.
  char* entry = index.data() + 12 + 2 * 44;
  const std::int64_t claimed = (t0 + 25ns).time_since_epoch().count();
  std::memcpy(entry + 16, &claimed, 8);
  const std::uint32_t crc = asp::data::crc32c(entry, 40);
  std::memcpy(entry + 40, &crc, 4);
  std::ofstream(path + ".idx", std::ios::binary | std::ios::trunc) << index;
  log_reader reader(path, {.ahead = read_ahead::none});
  std::size_t delivered = 0;
  const std::string error = input_error_of([&] {
    for (const auto& e : reader) {
      (void)e;
      ++delivered;
    }
  });
  EXPECT_EQ(delivered, 20u);
  EXPECT_TRUE(error.starts_with(path + ": its time index is wrong: the chunk at offset ")) << error;
  EXPECT_NE(error.find(" starts at 2025-01-01T00:00:00.000000025Z, but its record at offset "),
            std::string::npos)
      << error;
  EXPECT_TRUE(error.ends_with(" is at 2025-01-01T00:00:00.000000020Z")) << error;
}

}  // namespace

// read_ahead::automatic counts physical cores as Linux's sysfs tells them.
struct PhysicalCores : ::testing::Test {
  temp_dir dir;
  void cpu(int n, const std::string& package, const std::string& core) {
    const std::string topology = dir.path("cpu" + std::to_string(n) + "/topology");
    std::filesystem::create_directories(topology);
    if (!package.empty()) std::ofstream(topology + "/physical_package_id") << package << "\n";
    if (!core.empty()) std::ofstream(topology + "/core_id") << core << "\n";
  }
  std::size_t count(const std::vector<int>& cpus) {
    return asp::data::detail::physical_cores(dir.path(""), cpus);
  }
};

TEST_F(PhysicalCores, TwoHyperthreadsOfOneCoreAreOneCore) {
  cpu(0, "0", "0");
  cpu(1, "0", "0");
  EXPECT_EQ(count({0, 1}), 1u);
}

TEST_F(PhysicalCores, TwoCoresOrTwoPackagesAreTwo) {
  cpu(0, "0", "0");
  cpu(1, "0", "1");
  cpu(2, "1", "0");
  cpu(3, "1", "0");
  EXPECT_EQ(count({0, 1}), 2u);
  EXPECT_EQ(count({0, 2}), 2u);
  EXPECT_EQ(count({2, 3}), 1u);
  EXPECT_EQ(count({0, 1, 2, 3}), 3u);
}

TEST_F(PhysicalCores, OnlyTheCpusGivenCount) {
  cpu(0, "0", "0");
  cpu(1, "0", "1");
  EXPECT_EQ(count({1}), 1u);
}

TEST_F(PhysicalCores, ATopologyThatCannotBeReadCountsAsOneCore) {
  cpu(0, "0", "0");
  cpu(1, "0", "");  // no core_id
  cpu(2, "", "2");  // no package
  cpu(3, "0", "three");
  EXPECT_EQ(count({0, 1}), 1u);
  EXPECT_EQ(count({0, 2}), 1u);
  EXPECT_EQ(count({0, 3}), 1u);
  EXPECT_EQ(count({0, 4}), 1u);  // no such CPU
  EXPECT_EQ(count({}), 1u);
}

TEST(CgroupCpuLimit, IsQuotaOverPeriodAndInfiniteWithoutALimit) {
  temp_dir dir;
  const auto limit = [&](const std::string& text) {
    const std::string path = dir.write("cpu.max", text);
    return asp::data::detail::cgroup_cpu_limit(path);
  };
  const double none = std::numeric_limits<double>::infinity();
  EXPECT_EQ(limit("max 100000\n"), none);
  EXPECT_EQ(limit("150000 100000\n"), 1.5);
  EXPECT_EQ(limit("200000 100000\n"), 2.0);
  EXPECT_EQ(limit(""), none);
  EXPECT_EQ(limit("lots 100000\n"), none);
  EXPECT_EQ(limit("100000 0\n"), none);
  EXPECT_EQ(asp::data::detail::cgroup_cpu_limit(dir.path("no-such-file")), none);
}

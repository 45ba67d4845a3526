// asp::data record log: writing, reading back merged in time order, seeking by the time index,
// torn tails, corrupt records, codecs, durability, and recording a live stream.
#include <asp/data/log.hpp>

#include <asp/data/crc32c.hpp>

#include <asp/asp.hpp>

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bit>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "data/temp_file.hpp"
#include "test_support.hpp"

namespace {

using namespace asp::testing;
using asp::data::log_read_options;
using asp::data::log_reader;
using asp::data::log_writer;

// "stream@seconds=payload" for every record a reader yields.
std::vector<std::string> lines_of(log_reader& reader) {
  std::vector<std::string> out;
  for (const auto& e : reader) {
    out.push_back(reader.streams()[e.value.stream].name + "@" + std::to_string((e.time - t0) / 1s) +
                  "=" + std::string(e.value.payload));
  }
  return out;
}

struct Log : ::testing::Test {
  temp_dir dir;
  std::string path = dir.path("r.asplog");

  void write_ab(log_writer& w) {
    w.write(0, t0 + 1s, "a1");
    w.write(1, t0 + 2s, "b2");
    w.write(0, t0 + 3s, "a3");
    w.write(1, t0 + 3s, "b3");
  }
};

TEST_F(Log, WhatIsWrittenReadsBackWithItsHeader) {
  {
    log_writer w(path, {{"a", "text"}, {"b", "bid:f64"}}, {.creator = "a test"});
    write_ab(w);
    EXPECT_EQ(w.written(), 4u);
    w.close();
    EXPECT_EQ(w.acknowledged(), 4u);
  }
  log_reader r(path);
  EXPECT_EQ(r.creator(), "a test");
  EXPECT_EQ(r.streams(), (std::vector<asp::data::log_stream>{{"a", "text"}, {"b", "bid:f64"}}));
  EXPECT_EQ(lines_of(r), (std::vector<std::string>{"a@1=a1", "b@2=b2", "a@3=a3", "b@3=b3"}));
  EXPECT_EQ(r.report()->records, 4u);
  EXPECT_EQ(r.report()->index, asp::data::index_state::complete);
  EXPECT_FALSE(r.report()->torn.has_value());
  // The header describes itself.
  EXPECT_TRUE(dir.read("r.asplog")
                  .starts_with("ASPLOG 1\ncreator: a test\nstream: a\nschema: text\n"
                               "stream: b\nschema: bid:f64\ncrc: "));
}

TEST_F(Log, StreamsMergeInTimeThenRecordOrder) {
  {
    log_writer w(path, {{"a"}, {"b"}});
    w.write(0, t0 + 1s, "a1");
    w.write(0, t0 + 3s, "a3");
    w.write(0, t0 + 5s, "a5");
    w.write(1, t0 + 2s, "b2");
    w.write(1, t0 + 3s, "b3");  // same time as a3, written later: after it
    w.write(1, t0 + 6s, "b6");
  }
  log_reader r(path);
  EXPECT_EQ(lines_of(r),
            (std::vector<std::string>{"a@1=a1", "b@2=b2", "a@3=a3", "b@3=b3", "a@5=a5", "b@6=b6"}));
  log_reader only_b(path, {.streams = {"b"}});
  EXPECT_EQ(lines_of(only_b), (std::vector<std::string>{"b@2=b2", "b@3=b3", "b@6=b6"}));
  EXPECT_EQ(input_error_of([&] { log_reader(path, {.streams = {"c"}}); }),
            path + ": no stream 'c' (the file has 'a', 'b')");
}

TEST_F(Log, SeekingByTimeUsesTheIndexAndEndStopsTheRead) {
  {
    log_writer w(path, {{"x"}}, {.chunk_records = 100});
    for (int i = 0; i < 10'000; ++i) w.write(0, t0 + std::chrono::seconds(i), std::to_string(i));
  }
  log_reader r(path, {.start = t0 + 5000s + 500ms, .end = t0 + 5003s});
  EXPECT_EQ(lines_of(r), (std::vector<std::string>{"x@5001=5001", "x@5002=5002", "x@5003=5003"}));
  EXPECT_EQ(r.report()->chunks, 100u);
  EXPECT_EQ(r.report()->index, asp::data::index_state::complete);
  log_reader after(path, {.start = t0 + 20000s});
  EXPECT_EQ(lines_of(after), std::vector<std::string>{});
}

TEST_F(Log, AMissingOrTornIndexIsRebuiltByScanning) {
  {
    log_writer w(path, {{"x"}}, {.chunk_records = 10});
    for (int i = 0; i < 95; ++i) w.write(0, t0 + std::chrono::seconds(i), std::to_string(i));
  }
  const std::string index = dir.read("r.asplog.idx");
  // The magic and the header's CRC, then 9 full chunks and the last one, at close.
  ASSERT_EQ(index.size(), 12u + 10u * 44u);

  dir.write("r.asplog.idx", index.substr(0, 12 + 4 * 44 + 17));  // torn in its fifth entry
  log_reader partial(path, {.start = t0 + 90s});
  EXPECT_EQ(lines_of(partial).front(), "x@90=90");
  EXPECT_EQ(partial.report()->index, asp::data::index_state::partial);

  std::filesystem::remove(dir.path("r.asplog.idx"));
  log_reader missing(path, {.start = t0 + 42s});
  const auto lines = lines_of(missing);
  ASSERT_EQ(lines.size(), 53u);
  EXPECT_EQ(lines.front(), "x@42=42");
  EXPECT_EQ(missing.report()->index, asp::data::index_state::missing);

  std::string garbage = index;
  garbage[12 + 2 * 44 + 3] ^= 0x40;  // the third entry's CRC fails: the rest is scanned
  dir.write("r.asplog.idx", garbage);
  log_reader bad(path, {.start = t0 + 50s});
  EXPECT_EQ(lines_of(bad).size(), 45u);
  EXPECT_EQ(bad.report()->index, asp::data::index_state::partial);
}

// An index is bound to its log: `cp new.asplog old.asplog` leaves old's index beside records of
// the same layout at other times. Taken as complete, a seek found nothing; now the index is
// found stale at opening (its header's CRC, its first and last chunks' first records) and
// rebuilt by scanning, and a chunk between them that begins with another record stops the read
// by name rather than skip what the index misplaces.
TEST_F(Log, AnIndexLeftBesideAnotherLogIsNotTakenForItsOwn) {
  auto write_log = [&](const std::string& to, std::chrono::seconds shift,
                       std::vector<asp::data::log_stream> streams) {
    std::filesystem::remove(to);
    log_writer w(to, std::move(streams), {.chunk_records = 10});
    for (int i = 0; i < 95; ++i)
      w.write(0, t0 + shift + std::chrono::seconds(i), std::to_string(i));
  };
  const std::string newer = dir.path("new.asplog");
  write_log(path, 0s, {{"x"}});
  write_log(newer, 10000s, {{"x"}});
  const std::string old_index = dir.read("r.asplog.idx");
  std::filesystem::copy_file(newer, path, std::filesystem::copy_options::overwrite_existing);
  ASSERT_EQ(dir.read("r.asplog.idx"), old_index);  // same layout, other times

  log_reader copied(path, {.start = t0 + 10042s});
  const auto lines = lines_of(copied);
  ASSERT_EQ(lines.size(), 53u);
  EXPECT_EQ(lines.front(), "x@10042=42");
  EXPECT_EQ(copied.report()->index, asp::data::index_state::stale);

  // Another header (a stream of another name): stale by the index's binding alone.
  write_log(newer, 0s, {{"y"}});
  std::filesystem::copy_file(newer, path, std::filesystem::copy_options::overwrite_existing);
  dir.write("r.asplog.idx", old_index);
  log_reader renamed(path, {.start = t0 + 90s});
  EXPECT_EQ(lines_of(renamed).front(), "y@90=90");
  EXPECT_EQ(renamed.report()->index, asp::data::index_state::stale);

  // The same first and last chunks, another record opening the fifth (a record rewritten with
  // a valid CRC): the read stops there, naming the index and the chunk.
  write_log(path, 0s, {{"x"}});
  std::string bytes = dir.read("r.asplog");
  // After the header: records 0 to 9 of 19 bytes, 10 to 39 of 20; record 40 opens the fifth.
  const std::size_t fifth = bytes.find('\n', bytes.find("crc: ")) + 1 + 10 * 19 + 30 * 20;
  ASSERT_EQ(bytes.substr(fifth + 8 + 10, 2), "40");
  bytes.replace(fifth + 8 + 10, 2, "99");
  const std::uint32_t crc = asp::data::crc32c(bytes.data() + fifth + 8, 12);
  std::memcpy(bytes.data() + fifth + 4, &crc, 4);
  dir.write("r.asplog", bytes);
  log_reader rewritten(path);
  std::size_t delivered = 0;
  const std::string error = input_error_of([&] {
    for (const auto& e : rewritten) {
      (void)e;
      ++delivered;
    }
  });
  EXPECT_EQ(delivered, 40u);
  EXPECT_EQ(error, path + ": its time index " + path +
                       ".idx belongs to another log: its chunk at offset " + std::to_string(fifth) +
                       " begins with another record (delete the index: it is rebuilt by scanning)");
  EXPECT_EQ(rewritten.report()->index, asp::data::index_state::complete);
}

// Indexes of format version 1 (no binding; 40-byte entries) are still read, and checked at
// their first and last chunks' records' times.
TEST_F(Log, AnIndexOfVersionOneStillSeeksAndIsCheckedByTimes) {
  {
    log_writer w(path, {{"x"}}, {.chunk_records = 10});
    for (int i = 0; i < 95; ++i) w.write(0, t0 + std::chrono::seconds(i), std::to_string(i));
  }
  const std::string v2 = dir.read("r.asplog.idx");
  std::string v1 = "ASPIDX1\n";
  for (std::size_t e = 12; e + 44 <= v2.size(); e += 44) {
    std::string entry = v2.substr(e, 36);
    const std::uint32_t crc = asp::data::crc32c(entry);
    entry.append(reinterpret_cast<const char*>(&crc), 4);
    v1 += entry;
  }
  dir.write("r.asplog.idx", v1);
  log_reader seeking(path, {.start = t0 + 90s});
  EXPECT_EQ(lines_of(seeking).front(), "x@90=90");
  EXPECT_EQ(seeking.report()->index, asp::data::index_state::complete);

  {
    log_writer w(path, {{"x"}}, {.chunk_records = 10, .overwrite = true});
    for (int i = 0; i < 95; ++i)
      w.write(0, t0 + 10000s + std::chrono::seconds(i), std::to_string(i));
  }
  dir.write("r.asplog.idx", v1);
  log_reader copied(path, {.start = t0 + 10090s});
  EXPECT_EQ(lines_of(copied).front(), "x@10090=90");
  EXPECT_EQ(copied.report()->index, asp::data::index_state::stale);
}

TEST_F(Log, ATornTailIsReportedAndEveryCompleteRecordBeforeItIsRead) {
  {
    log_writer w(path, {{"x"}});
    for (int i = 0; i < 5; ++i)
      w.write(0, t0 + std::chrono::seconds(i), "payload" + std::to_string(i));
  }
  const std::string bytes = dir.read("r.asplog");
  const std::size_t record = 8 + 10 + 8;  // frame, head, "payloadN"
  const std::size_t fifth = bytes.size() - record;
  for (const std::size_t cut : {std::size_t{1}, std::size_t{7}, std::size_t{8}, record - 1}) {
    dir.write("r.asplog", bytes.substr(0, fifth + cut));
    log_reader r(path);
    EXPECT_EQ(lines_of(r).size(), 4u) << cut;
    ASSERT_TRUE(r.report()->torn.has_value()) << cut;
    EXPECT_EQ(r.report()->torn->offset, fifth);
    EXPECT_EQ(r.report()->torn->bytes, cut);
  }
  // Zeros where the tail should be (a file extended but never written) are a torn tail too.
  dir.write("r.asplog", bytes.substr(0, fifth) + std::string(100, '\0'));
  log_reader zeros(path);
  EXPECT_EQ(lines_of(zeros).size(), 4u);
  EXPECT_EQ(zeros.report()->torn->bytes, 100u);
}

TEST_F(Log, ACorruptRecordInTheMiddleFailsWithItsOffsetOrIsSkippedAndCounted) {
  {
    log_writer w(path, {{"x"}});
    for (int i = 0; i < 5; ++i)
      w.write(0, t0 + std::chrono::seconds(i), "payload" + std::to_string(i));
  }
  std::string bytes = dir.read("r.asplog");
  const std::size_t record = 26;
  const std::size_t third = bytes.size() - 3 * record;
  bytes[third + 20] ^= 0x01;  // a bit of the third record's payload
  dir.write("r.asplog", bytes);

  log_reader strict(path);
  std::vector<std::string> seen;
  EXPECT_EQ(input_error_of([&] {
              for (const auto& e : strict) seen.emplace_back(e.value.payload);
            }),
            path + ": corrupt record at offset " + std::to_string(third) +
                " (bad size or CRC; the next valid record is at offset " +
                std::to_string(third + record) + ")");
  EXPECT_EQ(seen, (std::vector<std::string>{"payload0", "payload1"}));

  log_reader lenient(path, {.on_corrupt = asp::data::corrupt_records::skip});
  EXPECT_EQ(lines_of(lenient), (std::vector<std::string>{"x@0=payload0", "x@1=payload1",
                                                         "x@3=payload3", "x@4=payload4"}));
  EXPECT_EQ(lenient.report()->corrupt_skipped, 1u);
  EXPECT_FALSE(lenient.report()->torn.has_value());
}

TEST_F(Log, BadHeadersAreNamed) {
  dir.write("not.asplog", "time,value\n");
  EXPECT_EQ(input_error_of([&] { log_reader{dir.path("not.asplog")}; }),
            dir.path("not.asplog") + ": not a record log (it does not start with 'ASPLOG')");
  dir.write("v3.asplog", "ASPLOG 3\ncreator: future\ncrc: 00000000\n");
  EXPECT_EQ(input_error_of([&] { log_reader{dir.path("v3.asplog")}; }),
            dir.path("v3.asplog") + ": format version 3; this reader reads versions 1 and 2");
  { log_writer w(path, {{"x"}}); }
  std::string bytes = dir.read("r.asplog");
  bytes[bytes.find("stream: x") + 8] = 'y';
  dir.write("r.asplog", bytes);
  EXPECT_EQ(input_error_of([&] { log_reader{path}; }),
            path + ": the header is corrupt (its CRC does not match)");
  // Two streams of one name (only a crafted header has them: writers refuse them).
  const std::string twice = "ASPLOG 1\ncreator: c\nstream: x\nschema: \nstream: x\nschema: \n";
  char crc[16];
  std::snprintf(crc, sizeof crc, "%08x", asp::data::crc32c(twice));
  dir.write("twice.asplog", twice + "crc: " + crc + "\n");
  EXPECT_EQ(input_error_of([&] { log_reader{dir.path("twice.asplog")}; }),
            dir.path("twice.asplog") + ": two streams are named 'x'");
  dir.write("cut.asplog", "ASPLOG 1\ncreator: a");
  EXPECT_EQ(input_error_of([&] { log_reader{dir.path("cut.asplog")}; }),
            dir.path("cut.asplog") + ": the header is incomplete");
}

struct tick {
  double price;
  std::int64_t size;
};

TEST_F(Log, TypedSourcesDecodeWithCodecs) {
  {
    log_writer w(path, {{"ticks"}, {"notes"}});
    w.write_value(0, t0 + 1s, tick{10.5, 3});
    w.write_value(1, t0 + 1s, std::string("hello"));
    w.write_value(0, t0 + 2s, tick{-0.0, -7});
  }
  asp::data::log_source<tick> ticks(path, "ticks");
  std::vector<std::pair<double, std::int64_t>> got;
  for (const auto& e : ticks) got.emplace_back(e.value.price, e.value.size);
  EXPECT_EQ(got, (std::vector<std::pair<double, std::int64_t>>{{10.5, 3}, {-0.0, -7}}));
  asp::data::log_source<std::string> notes(path, "notes");
  EXPECT_EQ((*notes.begin()).value, "hello");

  asp::data::log_source<tick> wrong(path, "notes");
  EXPECT_EQ(input_error_of([&] { wrong.begin(); }),
            path + ": record at offset " +
                std::to_string((*log_reader(path, {.streams = {"notes"}}).begin()).value.offset) +
                " of stream 'notes': cannot decode: a payload of 5 bytes for a type of 16");
}

TEST_F(Log, DurabilityAcknowledgesWhatAnFsyncCovers) {
  log_writer w(path, {{"x"}}, {.fsync = {.every_records = 3}});
  for (int i = 1; i <= 7; ++i) {
    w.write(0, t0 + std::chrono::seconds(i), "r");
    EXPECT_EQ(w.acknowledged(), static_cast<std::uint64_t>(i / 3 * 3)) << i;
  }
  w.sync();
  EXPECT_EQ(w.acknowledged(), 7u);
  w.write(0, t0 + 8s, "r");
  EXPECT_EQ(w.acknowledged(), 7u);
  w.close();
  EXPECT_EQ(w.acknowledged(), 8u);
  EXPECT_THROW(w.write(0, t0 + 9s, "r"), std::logic_error);
}

TEST_F(Log, CreatingFailsClearly) {
  { log_writer w(path, {{"x"}}); }
  try {
    log_writer again(path, {{"x"}});
    ADD_FAILURE() << "created over an existing file";
  } catch (const std::system_error& e) {
    EXPECT_EQ(std::string(e.what()),
              "cannot create " + path + " (0 records acknowledged): File exists");
  }
  try {
    log_writer nowhere(dir.path("no/such/dir.asplog"), {{"x"}});
    ADD_FAILURE() << "created in a missing directory";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), std::errc::no_such_file_or_directory);
  }
  EXPECT_THROW(log_writer(dir.path("bad.asplog"), {{"two\nlines"}}), std::invalid_argument);
  try {
    log_writer twice(dir.path("twice.asplog"), {{"x"}, {"y"}, {"x"}});
    ADD_FAILURE() << "two streams of one name";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()), "asp::data::log_writer: two streams are named 'x'");
  }
  // A symbolic link planted where the index (or, replacing, the log) goes is not followed, and
  // what it points to is untouched; an index that is not a regular file is refused.
  dir.write("target.txt", "precious");
  std::filesystem::create_symlink(dir.path("target.txt"), dir.path("linked.asplog.idx"));
  try {
    log_writer linked(dir.path("linked.asplog"), {{"x"}});
    ADD_FAILURE() << "wrote through a link";
  } catch (const std::system_error& e) {
    EXPECT_EQ(std::string(e.what()), "cannot create the index of " + dir.path("linked.asplog") +
                                         ": " + dir.path("linked.asplog.idx") +
                                         " is not a regular file (0 records acknowledged): File "
                                         "exists");
  }
  std::filesystem::create_symlink(dir.path("target.txt"), dir.path("over.asplog"));
  EXPECT_THROW(log_writer(dir.path("over.asplog"), {{"x"}}, {.overwrite = true}),
               std::system_error);
  EXPECT_EQ(dir.read("target.txt"), "precious");
  ASSERT_EQ(::mkfifo(dir.path("fifo.asplog.idx").c_str(), 0644), 0);
  try {
    log_writer fifo(dir.path("fifo.asplog"), {{"x"}});
    ADD_FAILURE() << "wrote an index into a FIFO";
  } catch (const std::system_error& e) {
    EXPECT_EQ(std::string(e.what()), "cannot create the index of " + dir.path("fifo.asplog") +
                                         ": " + dir.path("fifo.asplog.idx") +
                                         " is not a regular file (0 records acknowledged): File "
                                         "exists");
  }
  log_writer replaced(path, {{"y"}}, {.overwrite = true});
  replaced.close();
  EXPECT_EQ(log_reader(path).streams().front().name, "y");
}

// In a child process that is not root (root may write anywhere): a directory it may not write.
TEST_F(Log, PermissionDeniedIsNamed) {
  const std::string locked = dir.path("locked");
  std::filesystem::permissions(dir.path(""), std::filesystem::perms::others_exec,
                               std::filesystem::perm_options::add);
  std::filesystem::create_directory(locked);
  std::filesystem::permissions(
      locked, std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec |
                  std::filesystem::perms::group_read | std::filesystem::perms::group_exec |
                  std::filesystem::perms::others_read | std::filesystem::perms::others_exec);
  const std::string target = locked + "/r.asplog";
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) std::_Exit(2);
    try {
      log_writer w(target, {{"x"}});
    } catch (const std::system_error& e) {
      const std::string expected = "cannot create " + target + " (0 records acknowledged)";
      std::_Exit(std::string(e.what()).starts_with(expected) &&
                         e.code() == std::errc::permission_denied
                     ? 0
                     : 1);
    }
    std::_Exit(1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_FALSE(std::filesystem::exists(target));
}

// In a child process: the file may grow to `limit` bytes, as on a full disk.
TEST_F(Log, AFullDiskFailsTheWriteAndKeepsWhatWasAcknowledged) {
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::signal(SIGXFSZ, SIG_IGN);
    log_writer w(path, {{"x"}}, {.fsync = {.every_records = 1}});
    const rlimit limit{4096, 4096};
    ::setrlimit(RLIMIT_FSIZE, &limit);
    try {
      for (int i = 0;; ++i) w.write(0, t0 + std::chrono::seconds(i), std::string(100, 'p'));
    } catch (const std::system_error& e) {
      const bool named = std::string(e.what()).starts_with("cannot write " + path + " (");
      std::_Exit(named && e.code() == std::errc::file_too_large ? 0 : 1);
    }
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  log_reader r(path);
  std::size_t n = 0;
  for (const auto& e : r) {
    EXPECT_EQ(e.value.payload, std::string(100, 'p'));
    ++n;
  }
  // Header plus whole records of 118 bytes up to 4096, then a torn piece of the next.
  const std::size_t header = dir.read("r.asplog").find("crc: ") + 14;
  EXPECT_EQ(n, (4096 - header) / 118);
  ASSERT_TRUE(r.report()->torn.has_value());
  EXPECT_EQ(r.report()->torn->offset + r.report()->torn->bytes, 4096u);
}

TEST_F(Log, CompressedChunksReadBackTheSameAndSeek) {
  auto write = [&](const std::string& to, int level) {
    log_writer w(to, {{"a"}, {"b"}}, {.chunk_records = 100, .zstd_level = level});
    for (int i = 0; i < 3000; ++i) {
      w.write(static_cast<std::uint16_t>(i % 2), t0 + std::chrono::seconds(i / 2),
              "payload " + std::to_string(i) + " of a stream that repeats itself");
    }
  };
  const std::string plain = dir.path("plain.asplog");
  write(plain, 0);
  write(path, 3);
  EXPECT_LT(std::filesystem::file_size(path) * 3, std::filesystem::file_size(plain));
  EXPECT_NE(dir.read("r.asplog").find("\ncompression: zstd\n"), std::string::npos);
  log_reader compressed(path);
  log_reader uncompressed(plain);
  const auto all = lines_of(compressed);
  ASSERT_EQ(all.size(), 3000u);
  EXPECT_EQ(all, lines_of(uncompressed));
  EXPECT_EQ(compressed.report()->chunks, 30u);
  log_reader range(path, {.start = t0 + 1000s, .end = t0 + 1001s, .streams = {"b"}});
  EXPECT_EQ(lines_of(range),
            (std::vector<std::string>{"b@1000=payload 2001 of a stream that repeats itself",
                                      "b@1001=payload 2003 of a stream that repeats itself"}));
  std::filesystem::remove(dir.path("r.asplog.idx"));
  log_reader rebuilt(path, {.start = t0 + 1499s});
  EXPECT_EQ(lines_of(rebuilt).size(), 2u);
  EXPECT_EQ(rebuilt.report()->index, asp::data::index_state::missing);
  EXPECT_EQ(rebuilt.report()->chunks, 1u);  // rebuilt in chunks of 4096 records or more
}

TEST_F(Log, ACompressedChunkCutOrCorruptLosesOnlyItself) {
  {
    log_writer w(path, {{"x"}}, {.chunk_records = 10, .zstd_level = 1});
    for (int i = 0; i < 30; ++i) w.write(0, t0 + std::chrono::seconds(i), std::to_string(i));
  }
  const std::string bytes = dir.read("r.asplog");
  std::filesystem::remove(dir.path("r.asplog.idx"));
  // The last chunk cut short: the first twenty records, and the torn tail.
  const std::size_t third_chunk = bytes.rfind(std::string("\xff\xff", 2)) - 8 - 8;
  dir.write("r.asplog", bytes.substr(0, bytes.size() - 5));
  log_reader cut(path);
  EXPECT_EQ(lines_of(cut).size(), 20u);
  ASSERT_TRUE(cut.report()->torn.has_value());
  EXPECT_EQ(cut.report()->torn->offset, third_chunk);

  // A byte of the middle chunk changed: named with its offset, or skipped with the rest read.
  std::string corrupt = bytes;
  const std::size_t second_chunk =
      corrupt.rfind(std::string("\xff\xff", 2), third_chunk - 1) - 8 - 8;
  corrupt[second_chunk + 40] ^= 0x10;
  dir.write("r.asplog", corrupt);
  log_reader strict(path);
  EXPECT_EQ(input_error_of([&] { lines_of(strict); }),
            path + ": corrupt record at offset " + std::to_string(second_chunk) +
                " (bad size or CRC; the next valid record is at offset " +
                std::to_string(third_chunk) + ")");
  log_reader lenient(path, {.on_corrupt = asp::data::corrupt_records::skip});
  EXPECT_EQ(lines_of(lenient).size(), 20u);
  EXPECT_EQ(lenient.report()->corrupt_skipped, 1u);
}

// A chunk that claims an uncompressed size its zstd frame does not have (here 4 GiB - 1, with
// a valid CRC) is a corrupt record: the claim is checked against the frame before anything
// is allocated for it (the message says which check found it).
TEST_F(Log, ACompressedChunkWhoseClaimedSizeItsFrameContradictsIsCorrupt) {
  {
    log_writer w(path, {{"x"}}, {.chunk_records = 10, .zstd_level = 1});
    for (int i = 0; i < 30; ++i) w.write(0, t0 + std::chrono::seconds(i), std::to_string(i));
  }
  std::string bytes = dir.read("r.asplog");
  const std::size_t third_chunk = bytes.rfind(std::string("\xff\xff", 2)) - 8 - 8;
  const std::size_t second_chunk = bytes.rfind(std::string("\xff\xff", 2), third_chunk - 1) - 8 - 8;
  std::uint32_t body = 0;
  std::memcpy(&body, bytes.data() + second_chunk, 4);
  const std::uint32_t claimed = 0xFFFFFFFFu;
  std::memcpy(bytes.data() + second_chunk + 8 + 10 + 12, &claimed, 4);
  const std::uint32_t crc = asp::data::crc32c(bytes.data() + second_chunk + 8, body);
  std::memcpy(bytes.data() + second_chunk + 4, &crc, 4);
  dir.write("r.asplog", bytes);
  // Without its index, whose entry binds the chunk to the record as it was written.
  std::filesystem::remove(path + ".idx");
  log_reader strict(path);
  const std::string error = input_error_of([&] { lines_of(strict); });
  EXPECT_TRUE(error.starts_with(path + ": corrupt record at offset " +
                                std::to_string(second_chunk) +
                                " (cannot decompress its chunk: it claims 4294967295 bytes, its "
                                "frame "))
      << error;
  log_reader lenient(path, {.on_corrupt = asp::data::corrupt_records::skip});
  EXPECT_EQ(lines_of(lenient).size(), 20u);
  EXPECT_EQ(lenient.report()->corrupt_skipped, 1u);
}

// A compressed log of format version 1 (records inside chunks with their own masked CRCs and
// whole times), as writers before version 2 made it, reads as it always did.
TEST_F(Log, ACompressedLogOfFormatVersionOneStillReads) {
  const std::string hex =
      "4153504c4f4720310a63726561746f723a2061737020636f6e766572740a636f6d707265"
      "7373696f6e3a207a7374640a73747265616d3a2074340a736368656d613a207461626c65"
      "2074696d653d69736f3836303140302073796d626f6c3a746578742c6269643a6636342c"
      "73697a653a6936340a6372633a2033653066376639620a960000007a92a725000057c07e"
      "681618ffff005e27737f681618040000009f00000028b52ffd209f9d030084051f000000"
      "e1e1e50b000057c07e6816180000010000004100f03f0a001f000000f361e14800caf1fb"
      "420440142200000051cc970600948c377f04000000432c204408401e7aab17d6005e2773"
      "7f41f83f0a000000000000000b006008284785012b770c351cb81fe401e32ab51318c205"
      "c6";
  std::string bytes;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    bytes.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  ASSERT_TRUE(bytes.starts_with("ASPLOG 1\ncreator: asp convert\ncompression: zstd\n"));
  dir.write("v1.asplog", bytes);
  log_reader r(dir.path("v1.asplog"));
  std::vector<std::string> got;
  for (const auto& e : r) {
    got.push_back(asp::to_string(e.time) + " " + std::to_string(e.value.payload.size()));
    if (got.size() == 3) {
      EXPECT_NE(e.value.payload.find("C, D"), std::string_view::npos);
    }
  }
  // The payloads: the rows A,1,10 / B,2.5,20 / "C, D",3,30 / A,1.5,10 as the table codec
  // encodes them.
  EXPECT_EQ(got, (std::vector<std::string>{
                     "2025-01-01T00:00:00.000000000Z 21", "2025-01-01T00:00:01.000000000Z 21",
                     "2025-01-01T00:00:02.000000000Z 24", "2025-01-01T00:00:03.000000000Z 21"}));
  EXPECT_EQ(r.report()->corrupt_skipped, 0u);
  EXPECT_FALSE(r.report()->torn.has_value());
}

}  // namespace

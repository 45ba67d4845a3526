// A recorder killed with SIGKILL at random moments: after every kill, the reader finds every
// acknowledged record, in order and intact, reports a torn tail if there is one, and never
// delivers a corrupt record — of a single log, and of a dataset split every few records, where
// the kills land in rotations too. 200 kills each (ASP_CRASH_KILLS=1000 for the long mode); the
// moments come from a seeded generator (ASP_CRASH_SEED), so a failure can be replayed.
#include <asp/data/log.hpp>

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>

#include "data/temp_file.hpp"
#include "test_support.hpp"

namespace {

using namespace asp::testing;

// Record i's payload: its number and a body whose length and bytes depend on it.
std::string payload(std::uint64_t i) {
  std::string p = "record " + std::to_string(i) + " ";
  p.append(static_cast<std::size_t>(i * 37 % 300), static_cast<char>('a' + i % 26));
  return p;
}

std::uint64_t env_or(const char* name, std::uint64_t fallback) {
  const char* value = std::getenv(name);
  return value != nullptr ? std::strtoull(value, nullptr, 10) : fallback;
}

// The child: records with an fsync after every record and reports each acknowledgement; with
// `split_bytes`, into a dataset whose files hold a few records each.
[[noreturn]] void record_until_killed(const std::string& path, int report,
                                      std::uint64_t split_bytes) {
  asp::data::log_writer w(path, {{"x", "text"}},
                          {.fsync = {.every_records = 1}, .split = {.bytes = split_bytes}});
  for (std::uint64_t i = 0;; ++i) {
    w.write(0, t0 + std::chrono::milliseconds(i), payload(i));
    const std::uint64_t acknowledged = w.acknowledged();
    if (::write(report, &acknowledged, sizeof acknowledged) != sizeof acknowledged) std::_Exit(3);
  }
}

void kill_and_read(std::uint64_t split_bytes) {
  const std::uint64_t kills = env_or("ASP_CRASH_KILLS", 200);
  std::mt19937_64 random(env_or("ASP_CRASH_SEED", 20251127));
  temp_dir dir;
  std::uint64_t torn_seen = 0;
  std::size_t most_files = 0;
  for (std::uint64_t k = 0; k < kills; ++k) {
    const std::string path =
        dir.path("crash" + std::to_string(k) + (split_bytes == 0 ? ".asplog" : ""));
    int pipe_fds[2];
    ASSERT_EQ(::pipe(pipe_fds), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      ::close(pipe_fds[0]);
      record_until_killed(path, pipe_fds[1], split_bytes);
    }
    ::close(pipe_fds[1]);
    // Kill after a random number of acknowledgements (0 to 40): the child is then somewhere in
    // its next write or sync.
    const std::uint64_t wait_for = random() % 41;
    std::uint64_t acknowledged = 0;
    std::uint64_t value = 0;
    while (acknowledged < wait_for &&
           ::read(pipe_fds[0], &value, sizeof value) == static_cast<ssize_t>(sizeof value)) {
      acknowledged = value;
    }
    ::kill(child, SIGKILL);
    // Whatever it acknowledged before it died counts too.
    while (::read(pipe_fds[0], &value, sizeof value) == static_cast<ssize_t>(sizeof value)) {
      acknowledged = value;
    }
    ::close(pipe_fds[0]);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status)) << "kill " << k << ": the recorder stopped by itself";

    if (acknowledged == 0) {
      // Killed while creating the file: nothing was promised; whatever is there must not crash
      // the reader.
      try {
        asp::data::log_reader r(path);
        for (const auto& e : r) (void)e;
      } catch (const asp::input_error&) {
      }
      continue;
    }
    asp::data::log_reader r(path);  // corrupt records fail the read: none may be found
    std::uint64_t n = 0;
    for (const auto& e : r) {
      ASSERT_EQ(e.time, t0 + std::chrono::milliseconds(n)) << "kill " << k << ", record " << n;
      ASSERT_EQ(e.value.payload, payload(n)) << "kill " << k << ", record " << n;
      ++n;
    }
    EXPECT_GE(n, acknowledged) << "kill " << k << ": an acknowledged record is missing";
    if (r.report()->torn) ++torn_seen;
    most_files = std::max(most_files, r.files().size());
  }
  if (split_bytes != 0) {
    EXPECT_GT(most_files, 3u) << "the kills never came after a rotation";
  }
  ::testing::Test::RecordProperty("torn_tails", static_cast<int>(torn_seen));
}

TEST(Crash, AKilledRecorderLosesNothingAcknowledgedAndDeliversNothingCorrupt) {
  kill_and_read(0);
}

// About six records a file: most kills land near a rotation (a file synced and closed, the
// next made under a temporary name, linked, its index made).
TEST(Crash, AKilledRecorderOfADatasetLosesNothingAcknowledgedAcrossRotations) {
  kill_and_read(1200);
}

}  // namespace

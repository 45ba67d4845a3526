// A recorder killed with SIGKILL at random moments: after every kill, the reader finds every
// acknowledged record, in order and intact, reports a torn tail if there is one, and never
// delivers a corrupt record. 200 kills (ASP_CRASH_KILLS=1000 for the long mode); the moments
// come from a seeded generator (ASP_CRASH_SEED), so a failure can be replayed.
#include <asp/data/log.hpp>

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

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

// The child: records with an fsync after every record and reports each acknowledgement.
[[noreturn]] void record_until_killed(const std::string& path, int report) {
  asp::data::log_writer w(path, {{"x", "text"}}, {.fsync = {.every_records = 1}});
  for (std::uint64_t i = 0;; ++i) {
    w.write(0, t0 + std::chrono::milliseconds(i), payload(i));
    const std::uint64_t acknowledged = w.acknowledged();
    if (::write(report, &acknowledged, sizeof acknowledged) != sizeof acknowledged) std::_Exit(3);
  }
}

TEST(Crash, AKilledRecorderLosesNothingAcknowledgedAndDeliversNothingCorrupt) {
  const std::uint64_t kills = env_or("ASP_CRASH_KILLS", 200);
  std::mt19937_64 random(env_or("ASP_CRASH_SEED", 20251127));
  temp_dir dir;
  std::uint64_t torn_seen = 0;
  for (std::uint64_t k = 0; k < kills; ++k) {
    const std::string path = dir.path("crash" + std::to_string(k) + ".asplog");
    int pipe_fds[2];
    ASSERT_EQ(::pipe(pipe_fds), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      ::close(pipe_fds[0]);
      record_until_killed(path, pipe_fds[1]);
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
  }
  RecordProperty("torn_tails", static_cast<int>(torn_seen));
}

}  // namespace

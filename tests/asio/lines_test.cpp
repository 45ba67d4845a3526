// asp::asio::lines: lines from a descriptor as a live source.
#include <asp/asio/lines.hpp>

#include <asp/asio/backend.hpp>
#include <asp/asp.hpp>

#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "asio_loop.hpp"
#include "test_support.hpp"

namespace {

using namespace asp::testing;

struct Lines : ::testing::Test, asio_loop {
  int fds[2] = {-1, -1};
  std::vector<std::string> seen;

  Lines() { EXPECT_EQ(::pipe(fds), 0); }
  ~Lines() override {
    if (fds[0] >= 0) ::close(fds[0]);
    if (fds[1] >= 0) ::close(fds[1]);
  }
  void write(const std::string& text) {
    ASSERT_EQ(::write(fds[1], text.data(), text.size()), static_cast<ssize_t>(text.size()));
  }
  void end_input() {
    ::close(fds[1]);
    fds[1] = -1;
  }
  auto record() {
    return [this](asp::time_point t, const std::string& line) {
      seen.push_back(line + " @" + std::to_string(secs(t)));
    };
  }
};

TEST_F(Lines, LinesArriveStampedAndTheEndOfInputEndsTheStream) {
  write("first\nsecond\r\nlast without newline");
  end_input();
  asp::asio::lines source(ioc, loop, fds[0], {.name = "stdin"});
  loop.run({}, asp::process_stream(record(), asp::none, source));
  EXPECT_EQ(seen, (std::vector<std::string>{"first @86400.000000", "second @86400.000000",
                                            "last without newline @86400.000000"}));
  EXPECT_EQ(source.ended(),
            "end of input, after a last line without a newline (20 bytes), kept as a line");
  EXPECT_EQ(source.partial(), 0u);
}

TEST_F(Lines, AnInputThatEndsWithANewlineSaysSo) {
  write("one\n");
  end_input();
  asp::asio::lines source(ioc, loop, fds[0]);
  EXPECT_EQ(source.ended(), "");
  loop.run({}, asp::process_stream(record(), asp::none, source));
  EXPECT_EQ(seen, std::vector<std::string>{"one @86400.000000"});
  EXPECT_EQ(source.ended(), "end of input");
}

// A stop (close) in the middle of a line: the line is not delivered, and partial() says how
// much of it had come.
TEST_F(Lines, AStopInTheMiddleOfALineLeavesItOutAndSaysItsSize) {
  write("whole\npart of a");
  asp::asio::lines source(ioc, loop, fds[0]);
  loop.call_at(clock.now() + 1s, [&] { source.close(); });
  loop.run({}, asp::process_stream(record(), asp::none, source));
  EXPECT_EQ(seen, std::vector<std::string>{"whole @86400.000000"});
  EXPECT_EQ(source.ended(), "closed");
  EXPECT_EQ(source.partial(), 9u);
}

TEST_F(Lines, HistoryFirstThenLinesFromAnotherThread) {
  asp::asio::lines source(ioc, loop, fds[0]);
  std::thread producer([&] {
    write("live 1\n");
    write("live 2\n");
    end_input();
  });
  loop.run({}, asp::process_stream(record(), std::vector<asp::event<std::string>>{{t0, "past"}},
                                   std::move(source)));
  producer.join();
  EXPECT_EQ(seen, (std::vector<std::string>{"past @0.000000", "live 1 @86400.000000",
                                            "live 2 @86400.000000"}));
}

TEST_F(Lines, TheEventTimeCanComeFromTheLine) {
  write("1 a\n3 b\n");
  end_input();
  asp::asio::lines source(ioc, loop, fds[0], {.time_of = [](std::string_view line) {
                            return t0 + std::chrono::seconds(std::stoi(std::string(line)));
                          }});
  loop.run({}, asp::process_stream(record(), asp::none, std::move(source)));
  EXPECT_EQ(seen, (std::vector<std::string>{"1 a @1.000000", "3 b @3.000000"}));
}

TEST_F(Lines, ALineOverTheLimitFailsTheRunNamingTheSourceAndLine) {
  write("ok\n" + std::string(100, 'x'));
  end_input();
  asp::asio::lines source(ioc, loop, fds[0], {.name = "feed", .max_line = 50});
  const asp::run_error e = run_error_of([&] {
    loop.run({}, asp::process_stream(record(), asp::none, std::move(source), {.name = "quotes"}));
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"ok @86400.000000"}));
  EXPECT_TRUE(std::string(e.what()).ends_with(
      "asp: line source 'feed', line 2: a line over the maximum of 50 bytes "
      "(100 bytes without a newline)"))
      << e.what();
  EXPECT_EQ(e.where(), "stream 'quotes', event #1");
}

TEST_F(Lines, ARegularFileIsReadToItsEnd) {
  char path[] = "/tmp/asp_lines_XXXXXX";
  const int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, "a\nb\n", 4), 4);
  ::lseek(fd, 0, SEEK_SET);
  asp::asio::lines source(ioc, loop, fd);
  ::close(fd);
  ::unlink(path);
  loop.run({}, asp::process_stream(record(), asp::none, std::move(source)));
  EXPECT_EQ(seen, (std::vector<std::string>{"a @86400.000000", "b @86400.000000"}));
}

TEST_F(Lines, ClosingTheSourceEndsAPendingRead) {
  asp::asio::lines source(ioc, loop, fds[0]);
  // Closed from the loop while the stream waits for input that never comes; the stream reads
  // a copy.
  loop.call_at(clock.now() + 1s, [&] { source.close(); });
  loop.run({}, asp::process_stream(record(), asp::none, source));
  EXPECT_TRUE(seen.empty());
  EXPECT_EQ(loop.now(), clock.now());
  EXPECT_EQ(clock.now(), t0 + 24h + 1s);
}

}  // namespace

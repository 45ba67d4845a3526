// asp::asio::use_task: Asio operations awaited by asp tasks, completing in the loop's order.
#include <asp/asio/use_task.hpp>

#include <asp/asio/backend.hpp>
#include <asp/asp.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <gtest/gtest.h>

#include <unistd.h>

#include <array>
#include <string>
#include <vector>

#include "asio_loop.hpp"
#include "test_support.hpp"

namespace {

using namespace asp::testing;

struct UseTask : ::testing::Test, asio_loop {
  boost::asio::posix::stream_descriptor reader{ioc};
  boost::asio::posix::stream_descriptor writer{ioc};

  UseTask() {
    int fds[2];
    EXPECT_EQ(::pipe(fds), 0);
    reader.assign(fds[0]);
    writer.assign(fds[1]);
  }
};

TEST_F(UseTask, AReadCompletesInTheLoopsOrderAtItsArrivalStamp) {
  std::vector<std::string> log;
  auto read_one = [&]() -> asp::task<void> {
    std::array<char, 16> data{};
    const std::size_t n =
        co_await boost::asio::async_read(reader, boost::asio::buffer(data, 5), asp::asio::use_task);
    log.push_back(std::string(data.data(), n) + " read at " + std::to_string(secs(asp::now())));
  };
  loop.call_at(t0 + 1s, [&] { log.push_back("history at 1"); });
  asp::spawn(loop, read_one(), "reader").detach();
  boost::asio::write(writer, boost::asio::buffer(std::string("hello")));
  loop.run();
  EXPECT_EQ(log, (std::vector<std::string>{"history at 1", "hello read at 86400.000000"}));
}

TEST_F(UseTask, AnErrorIsThrownAsASystemError) {
  writer.close();
  auto read_one = [&]() -> asp::task<std::string> {
    std::array<char, 4> data{};
    try {
      co_await reader.async_read_some(boost::asio::buffer(data), asp::asio::use_task);
    } catch (const boost::system::system_error& e) {
      co_return e.code() == boost::asio::error::eof ? "eof" : e.code().message();
    }
    co_return "no error";
  };
  EXPECT_EQ(loop.run(read_one()), "eof");
}

TEST_F(UseTask, CancellingTheTaskCancelsThePendingOperation) {
  bool resumed = false;
  auto read_forever = [&]() -> asp::task<void> {
    std::array<char, 4> data{};
    co_await reader.async_read_some(boost::asio::buffer(data), asp::asio::use_task);
    resumed = true;
  };
  asp::join_handle<void> h = asp::spawn(loop, read_forever(), "reader");
  loop.call_at(t0 + 1s, [&] { EXPECT_TRUE(h.cancel()); });
  loop.run({.start = t0});
  EXPECT_FALSE(resumed);
  EXPECT_THROW(h.result(), asp::cancelled);
  // The aborted completion is ignored: running the io_context now resumes nothing.
  ioc.poll();
  EXPECT_FALSE(resumed);
}

TEST_F(UseTask, OperationsWithoutAnErrorCodeYieldTheirValues) {
  // async_wait on a descriptor completes with an error code only: co_await yields nothing.
  auto wait_readable = [&]() -> asp::task<int> {
    co_await reader.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                               asp::asio::use_task);
    co_return 1;
  };
  boost::asio::write(writer, boost::asio::buffer(std::string("x")));
  EXPECT_EQ(loop.run(wait_readable()), 1);
}

}  // namespace

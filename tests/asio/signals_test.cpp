// asp::asio::stop_on_signals: the first signal stops the run gracefully, a second exits.
#include <asp/asio/signals.hpp>

#include <asp/asio/broadcast.hpp>
#include <asp/asio/tcp.hpp>
#include <asp/asp.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <gtest/gtest.h>

#include <csignal>
#include <stdexcept>
#include <string>
#include <vector>

#include "asio_loop.hpp"
#include "test_support.hpp"

namespace {

using namespace asp::testing;

TEST(StopOnSignals, TheFirstSignalEndsTheRunBeforeItsNextWorkAndLeavesTheRestPending) {
  manual_loop m;
  asp::asio::stop_on_signals signals(m.loop);
  std::vector<int> ran;
  m.loop.call_at(t0 + 1s, [&] {
    ran.push_back(1);
    std::raise(SIGINT);
    ran.push_back(2);  // the callback is not cut in half
  });
  m.loop.call_at(t0 + 2s, [&] { ran.push_back(3); });
  m.loop.run();
  EXPECT_EQ(signals.received(), SIGINT);
  EXPECT_EQ(ran, (std::vector<int>{1, 2}));
  m.loop.run();  // a later run continues
  EXPECT_EQ(ran, (std::vector<int>{1, 2, 3}));
}

TEST(StopOnSignals, TheActionsRunOnceInOrderAsTheStoppedRunReturns) {
  manual_loop m;
  asp::asio::stop_on_signals signals(m.loop);
  std::vector<std::string> log;
  signals.on_stop([&] { log.push_back("first at " + std::to_string((asp::now() - t0) / 1s)); });
  signals.on_stop([&] { log.push_back("second"); });
  m.loop.call_at(t0 + 1s, [&] {
    log.push_back("stopped by hand");
    m.loop.stop();  // not a signal: no action
  });
  m.loop.call_at(t0 + 2s, [&] {
    log.push_back("signal");
    std::raise(SIGTERM);
  });
  m.loop.call_at(t0 + 3s, [&] { log.push_back("later"); });
  m.loop.run();
  EXPECT_EQ(log, (std::vector<std::string>{"stopped by hand"}));
  m.loop.run();
  EXPECT_EQ(log, (std::vector<std::string>{"stopped by hand", "signal", "first at 2", "second"}));
  m.loop.stop();
  m.loop.run();  // another stop does not run them again
  m.loop.run();
  EXPECT_EQ(log, (std::vector<std::string>{"stopped by hand", "signal", "first at 2", "second",
                                           "later"}));
}

TEST(StopOnSignals, TheFirstSignalClosesTheFeedAndTheAnswersQueuedAreStillWritten) {
  using boost::asio::ip::tcp;
  asio_loop a;
  const tcp::endpoint loopback(boost::asio::ip::address_v4::loopback(), 0);
  // The feed's server sends one line; the answers' listener connects before the run.
  tcp::acceptor feed_server(a.ioc, loopback);
  tcp::socket feed_peer(a.ioc);
  feed_server.async_accept(feed_peer, [&](const boost::system::error_code& ec) {
    ASSERT_FALSE(ec) << ec.message();
    boost::asio::write(feed_peer, boost::asio::buffer(std::string("go\n")));
  });
  asp::asio::tcp_broadcast_server answers(a.ioc, a.loop, "127.0.0.1", 0);
  tcp::socket listener(a.ioc);
  listener.connect(tcp::endpoint(loopback.address(), answers.port()));
  asp::asio::tcp_client feed(a.ioc, a.loop, "127.0.0.1", feed_server.local_endpoint().port(),
                             {.name = "feed"});

  asp::asio::stop_on_signals signals(a.loop);
  signals.on_stop([&] {
    feed.close();
    answers.close();
  });
  std::vector<std::string> seen;
  auto on_line = [&](asp::time_point, const std::string& line) -> asp::task<void> {
    seen.push_back(line);
    while (answers.clients() < 1) co_await asp::sleep(1ms);
    co_await answers.publish("a");
    co_await answers.publish("b");
    co_await answers.publish("c");
    std::raise(SIGINT);
  };
  a.loop.run({}, asp::process_stream(on_line, asp::none, feed));
  EXPECT_EQ(signals.received(), SIGINT);
  EXPECT_EQ(seen, (std::vector<std::string>{"go"}));

  a.backend.finish();
  EXPECT_EQ(answers.queued(), 0u);
  std::string got;
  boost::system::error_code end;
  boost::asio::read(listener, boost::asio::dynamic_buffer(got), end);
  EXPECT_EQ(end, boost::asio::error::eof);
  EXPECT_EQ(got, "a\nb\nc\n");  // every answer queued before the signal, then the end
  std::string rest;
  boost::asio::read(feed_peer, boost::asio::dynamic_buffer(rest), end);
  EXPECT_EQ(end, boost::asio::error::eof);  // the feed's connection was closed
  EXPECT_EQ(rest, "");
}

TEST(StopOnSignals, OnlyOneAtATime) {
  manual_loop m;
  asp::asio::stop_on_signals signals(m.loop);
  EXPECT_THROW(asp::asio::stop_on_signals(m.loop), std::logic_error);
  EXPECT_EQ(signals.received(), 0);
}

TEST(StopOnSignalsDeathTest, ASecondSignalExitsAtOnce) {
  EXPECT_EXIT(
      {
        manual_loop m;
        asp::asio::stop_on_signals signals(m.loop, {SIGTERM});
        std::raise(SIGTERM);
        std::raise(SIGTERM);
        std::_Exit(0);
      },
      ::testing::ExitedWithCode(128 + SIGTERM), "");
}

}  // namespace

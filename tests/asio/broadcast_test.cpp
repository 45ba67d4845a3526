// asp::asio::tcp_broadcast_server: every frame to every client, bounded per-client queues.
#include <asp/asio/broadcast.hpp>

#include <asp/asio/backend.hpp>
#include <asp/asio/tcp.hpp>
#include <asp/asio/use_task.hpp>
#include <asp/asp.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "asio_loop.hpp"
#include "test_support.hpp"

namespace {

using namespace asp::testing;
using boost::asio::ip::tcp;

struct Broadcast : ::testing::Test, asio_loop {
  std::vector<std::string> log;

  // A client that connects now and never reads, with a small receive buffer.
  tcp::socket idle_client(std::uint16_t port) {
    tcp::socket s(ioc);
    s.open(tcp::v4());
    s.set_option(boost::asio::socket_base::receive_buffer_size(4096));
    s.connect(tcp::endpoint(boost::asio::ip::address_v4::loopback(), port));
    return s;
  }
};

TEST_F(Broadcast, EveryClientGetsEveryFrameAndClosingEndsThem) {
  asp::asio::tcp_broadcast_server server(
      ioc, loop, "127.0.0.1", 0,
      {.on_client = [&](const std::string&) { log.push_back("client"); }});
  asp::asio::tcp_client a(ioc, loop, "127.0.0.1", server.port(), {.name = "a"});
  asp::asio::tcp_client b(ioc, loop, "127.0.0.1", server.port(), {.name = "b"});
  auto record = [&](std::string who) {
    return [this, who](asp::time_point, const std::string& frame) {
      log.push_back(who + " " + frame);
    };
  };
  auto publisher = [&]() -> asp::task<void> {
    // Both clients connect when their streams first read; wait until the server has them.
    while (server.clients() < 2) co_await asp::sleep(1ms);
    co_await server.publish("one");
    co_await server.publish("two");
    co_await asp::sleep(1s);
    server.close();
  };
  loop.run({}, publisher(), asp::process_stream(record("a"), asp::none, a),
           asp::process_stream(record("b"), asp::none, b));
  std::vector<std::string> got_a;
  std::vector<std::string> got_b;
  for (const std::string& l : log) {
    if (l.starts_with("a ")) got_a.push_back(l);
    if (l.starts_with("b ")) got_b.push_back(l);
  }
  EXPECT_EQ(got_a, (std::vector<std::string>{"a one", "a two"}));
  EXPECT_EQ(got_b, (std::vector<std::string>{"b one", "b two"}));
  EXPECT_EQ(std::count(log.begin(), log.end(), "client"), 2);
}

TEST_F(Broadcast, ASlowClientIsDroppedUnderTheDropPolicy) {
  std::vector<std::string> dropped;
  asp::asio::tcp_broadcast_server server(
      ioc, loop, "127.0.0.1", 0,
      {.queue_limit = 2, .on_drop = [&](const std::string&, const std::string& reason) {
         dropped.push_back(reason);
       }});
  tcp::socket slow = idle_client(server.port());
  auto publisher = [&]() -> asp::task<void> {
    while (server.clients() < 1) co_await asp::sleep(1ms);
    const std::string frame(64 * 1024, 'x');
    for (int i = 0; i < 256 && server.clients() > 0; ++i) {
      co_await server.publish(frame);
      co_await asp::sleep(1ms);  // let the socket take what it can
    }
    server.close();
  };
  loop.run(publisher());
  ASSERT_EQ(dropped.size(), 1u);
  EXPECT_EQ(dropped[0], "too slow: 2 frames queued");
}

TEST_F(Broadcast, UnderTheBlockPolicyPublishWaitsForTheSlowClient) {
  asp::asio::tcp_broadcast_server server(
      ioc, loop, "127.0.0.1", 0, {.queue_limit = 1, .policy = asp::asio::slow_client::block});
  tcp::socket slow = idle_client(server.port());
  const std::string frame(256 * 1024, 'x');
  constexpr int frames = 16;
  std::size_t read = 0;
  auto reader = [&]() -> asp::task<void> {
    co_await asp::sleep(10s);  // starts reading late
    log.push_back("reader starts");
    std::vector<char> all(frame.size() * frames + frames);
    read = co_await boost::asio::async_read(slow, boost::asio::buffer(all), asp::asio::use_task);
    server.close();
  };
  auto publisher = [&]() -> asp::task<void> {
    while (server.clients() < 1) co_await asp::sleep(1ms);
    for (int i = 0; i < frames; ++i) co_await server.publish(frame);
    log.push_back("published all");
  };
  loop.run({}, reader(), publisher());
  EXPECT_EQ(log, (std::vector<std::string>{"reader starts", "published all"}));
  EXPECT_EQ(read, (frame.size() + 1) * frames);
}

TEST_F(Broadcast, AnAddressItCannotListenOnIsReported) {
  EXPECT_THROW(asp::asio::tcp_broadcast_server(ioc, loop, "not an address", 0), asp::input_error);
}

}  // namespace

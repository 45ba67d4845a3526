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

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

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

// A stop must not wait on a client that stopped reading: abort() ends every connection now, a
// publisher blocked on the client goes on, and on_drop says what the client was sent. Frames of
// 32 MiB outgrow any socket buffer here (tcp_wmem's most is 4 MiB), so none is sent whole.
TEST_F(Broadcast, AbortEndsEveryConnectionAtOnceAndSaysWhatEachClientWasSent) {
  std::vector<std::string> dropped;
  asp::asio::tcp_broadcast_server server(
      ioc, loop, "127.0.0.1", 0,
      {.queue_limit = 2,
       .policy = asp::asio::slow_client::block,
       .on_drop = [&](const std::string&, const std::string& reason) {
         dropped.push_back(reason);
       }});
  tcp::socket slow = idle_client(server.port());
  const std::string frame(32 << 20, 'x');
  auto publisher = [&]() -> asp::task<void> {
    while (server.clients() < 1) co_await asp::sleep(1ms);
    for (int i = 0; i < 3; ++i) {
      co_await server.publish(frame);
      log.push_back("published " + std::to_string(i));
    }
  };
  auto stopper = [&]() -> asp::task<void> {
    co_await asp::sleep(10s);
    log.push_back("abort");
    server.abort();
    co_await server.drained();
    log.push_back("drained");
  };
  loop.run({}, publisher(), stopper());
  // The blocked publisher goes on through the loop's queue; drained() is done at once.
  EXPECT_EQ(log, (std::vector<std::string>{"published 0", "published 1", "abort", "drained",
                                           "published 2"}));
  EXPECT_EQ(dropped, std::vector<std::string>{"stopped: 0 frames delivered, 2 not"});
  EXPECT_EQ(server.clients(), 0u);
  EXPECT_EQ(server.queued(), 0u);
}

// drained() completes once a closed server's clients have what was queued for them: 8 MiB,
// more than the socket buffers hold (tcp_wmem's most is 4 MiB), so not before the reader reads.
TEST_F(Broadcast, DrainedCompletesOnceEveryClientHasItAll) {
  asp::asio::tcp_broadcast_server server(ioc, loop, "127.0.0.1", 0);
  tcp::socket reader = idle_client(server.port());
  const std::string frame(1 << 20, 'x');
  std::size_t read = 0;
  auto reading = [&]() -> asp::task<void> {
    co_await asp::sleep(10s);
    log.push_back("reads");
    std::vector<char> all((frame.size() + 1) * 8);
    read = co_await boost::asio::async_read(reader, boost::asio::buffer(all), asp::asio::use_task);
  };
  auto publisher = [&]() -> asp::task<void> {
    while (server.clients() < 1) co_await asp::sleep(1ms);
    for (int i = 0; i < 8; ++i) co_await server.publish(frame);
    server.close();
    co_await server.drained();
    log.push_back("drained");
  };
  loop.run({}, reading(), publisher());
  EXPECT_EQ(log, (std::vector<std::string>{"reads", "drained"}));
  EXPECT_EQ(read, (frame.size() + 1) * 8);
}

// Out of file descriptors (the process's limit lowered under the next free one), accepting
// fails with EMFILE: said once through on_error, tried again after pauses on the loop's clock,
// and every waiting client is accepted once descriptors are free again.
TEST_F(Broadcast, AcceptingGoesOnAfterRunningOutOfDescriptors) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // The sanitizers' runtimes need descriptors of their own (UBSan's check of a dynamic type
  // writes the object to a pipe), which a process out of them cannot make: they would report
  // the starvation as an error of the program. The dev and release builds run it.
  GTEST_SKIP() << "a process out of file descriptors starves the sanitizers' runtime";
#endif
  std::vector<std::string> errors;
  std::vector<asp::time_point> accepted_at;
  asp::asio::tcp_broadcast_server server(
      ioc, loop, "127.0.0.1", 0,
      {.on_client = [&](const std::string&) { accepted_at.push_back(loop.now()); },
       .on_error = [&](const std::string& what) { errors.push_back(what); }});
  std::vector<tcp::socket> clients;
  for (int i = 0; i < 3; ++i) clients.push_back(idle_client(server.port()));
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  const int next_free = ::open("/dev/null", O_RDONLY | O_CLOEXEC);  // the lowest free one
  ASSERT_GE(next_free, 0);
  ::close(next_free);
  rlimit starved = saved;
  starved.rlim_cur = static_cast<rlim_t>(next_free);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &starved), 0);
  const asp::time_point began = loop.now();
  auto freeing = [&]() -> asp::task<void> {
    co_await asp::sleep(5s);
    ::setrlimit(RLIMIT_NOFILE, &saved);
    while (server.clients() < 3) co_await asp::sleep(1ms);
    server.close();
  };
  loop.run({}, freeing());
  ::setrlimit(RLIMIT_NOFILE, &saved);
  EXPECT_EQ(errors, std::vector<std::string>{
                        "cannot accept a client: Too many open files; trying again after 50 ms, "
                        "then up to every second, until it can"});
  ASSERT_EQ(accepted_at.size(), 3u);
  // Pauses of 50, 100, 200, 400, 800 ms, then a second: tries at 0.05, 0.15, 0.35, 0.75, 1.55,
  // 2.55, 3.55, 4.55 and 5.55 s, the first after the limit went at 5 s.
  EXPECT_EQ(accepted_at[0] - began, 5550ms);
  EXPECT_EQ(accepted_at[2], accepted_at[0]);
}

TEST_F(Broadcast, AnAddressItCannotListenOnIsReported) {
  EXPECT_THROW(asp::asio::tcp_broadcast_server(ioc, loop, "not an address", 0), asp::input_error);
}

}  // namespace

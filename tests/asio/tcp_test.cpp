// asp::asio::tcp_client: frames from a TCP connection as live events, faults, reconnection.
#include <asp/asio/tcp.hpp>

#include <asp/asio/backend.hpp>
#include <asp/asp.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "asio_loop.hpp"
#include "test_support.hpp"

namespace {

using namespace asp::testing;
using boost::asio::ip::tcp;

// A loopback server in the loop's own io_context: each accepted connection is sent the next
// script's bytes, then closed (or left open).
struct server {
  struct script {
    std::string bytes;
    bool close_after = true;
  };

  explicit server(boost::asio::io_context& ioc)
      : m_acceptor(ioc, tcp::endpoint(boost::asio::ip::address_v4::loopback(), 0)) {
    accept();
  }
  std::uint16_t port() const { return m_acceptor.local_endpoint().port(); }
  void stop() { m_acceptor.close(); }
  // Ends the last connection left open with a reset (RST), not an orderly close.
  void reset_last() {
    m_open.back()->set_option(boost::asio::socket_base::linger(true, 0));
    m_open.back()->close();
  }

  void accept() {
    m_acceptor.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
      if (ec) return;
      auto conn = std::make_shared<tcp::socket>(std::move(socket));
      script next = m_scripts.empty() ? script{} : m_scripts.front();
      if (!m_scripts.empty()) m_scripts.pop_front();
      auto bytes = std::make_shared<std::string>(next.bytes);
      boost::asio::async_write(
          *conn, boost::asio::buffer(*bytes),
          [this, conn, bytes, next](const boost::system::error_code&, std::size_t) {
            if (next.close_after) {
              conn->close();
            } else {
              m_open.push_back(conn);
            }
          });
      accept();
    });
  }

  tcp::acceptor m_acceptor;
  std::deque<script> m_scripts;
  std::vector<std::shared_ptr<tcp::socket>> m_open;
};

std::string prefixed(const std::string& payload) {
  const auto n = static_cast<std::uint32_t>(payload.size());
  std::string out{static_cast<char>(n >> 24), static_cast<char>((n >> 16) & 0xff),
                  static_cast<char>((n >> 8) & 0xff), static_cast<char>(n & 0xff)};
  return out + payload;
}

struct Tcp : ::testing::Test, asio_loop {
  server srv{ioc};
  std::vector<std::string> seen;
  auto record() {
    return [this](asp::time_point t, const std::string& frame) {
      seen.push_back(frame + " @" + std::to_string(secs(t)));
    };
  }
};

TEST_F(Tcp, LinesFromTheServerAreEventsStampedOnArrivalAndTheServersCloseEndsTheSource) {
  srv.m_scripts.push_back({"quote 1\nquote 2\r\n"});
  asp::asio::tcp_client client(ioc, loop, "127.0.0.1", srv.port());
  loop.run({}, asp::process_stream(record(), std::vector<asp::event<std::string>>{{t0, "history"}},
                                   client));
  EXPECT_EQ(seen, (std::vector<std::string>{"history @0.000000", "quote 1 @86400.000000",
                                            "quote 2 @86400.000000"}));
  EXPECT_EQ(client.connections(), 1u);
}

TEST_F(Tcp, LengthPrefixedFramesMayHoldAnyBytes) {
  srv.m_scripts.push_back({prefixed("a\nb") + prefixed("") + prefixed("xyz")});
  asp::asio::tcp_client client(ioc, loop, "127.0.0.1", srv.port(),
                               {.frames = asp::asio::framing::length_prefixed});
  loop.run({}, asp::process_stream(record(), asp::none, client));
  EXPECT_EQ(seen, (std::vector<std::string>{"a\nb @86400.000000", " @86400.000000",
                                            "xyz @86400.000000"}));
}

TEST_F(Tcp, ARefusedConnectionFailsTheRunNamingHostAndPort) {
  const std::uint16_t port = srv.port();
  srv.stop();
  asp::asio::tcp_client client(ioc, loop, "127.0.0.1", port, {.name = "feed"});
  const asp::run_error e = run_error_of(
      [&] { loop.run({}, asp::process_stream(record(), asp::none, client, {.name = "quotes"})); });
  EXPECT_EQ(std::string(e.what()).substr(std::string(e.what()).find("asp: tcp")),
            "asp: tcp source 'feed': cannot connect to 127.0.0.1:" + std::to_string(port) +
                ": Connection refused");
  EXPECT_EQ(e.where(), "stream 'quotes', event #0");
}

TEST_F(Tcp, AFrameOverTheMaximumFailsTheSource) {
  srv.m_scripts.push_back({"short\n" + std::string(64, 'x') + "\n"});
  asp::asio::tcp_client client(ioc, loop, "127.0.0.1", srv.port(), {.max_frame = 16});
  const asp::run_error e =
      run_error_of([&] { loop.run({}, asp::process_stream(record(), asp::none, client)); });
  EXPECT_EQ(seen, (std::vector<std::string>{"short @86400.000000"}));
  EXPECT_TRUE(
      std::string(e.what()).ends_with("asp: tcp source '127.0.0.1:" + std::to_string(srv.port()) +
                                      "': a line of 64 bytes is over the maximum of 16"))
      << e.what();
}

// The end of input, as for every line input: a peer that closes after a line without a
// newline sent a line; a length-prefixed frame cut short is an error.
TEST_F(Tcp, APeerClosingAfterALineWithoutANewlineSentALine) {
  srv.m_scripts.push_back({"whole\npart\r"});
  asp::asio::tcp_client client(ioc, loop, "127.0.0.1", srv.port());
  loop.run({}, asp::process_stream(record(), asp::none, client));
  EXPECT_EQ(seen, (std::vector<std::string>{"whole @86400.000000", "part @86400.000000"}));
  EXPECT_EQ(client.ended(),
            "closed by the peer, after a last line without a newline (5 bytes), kept as a line");
  EXPECT_EQ(client.partial(), 0u);
}

TEST_F(Tcp, APeerClosingInTheMiddleOfALengthPrefixedFrameIsAnError) {
  srv.m_scripts.push_back({prefixed("whole") + prefixed("part").substr(0, 6)});
  asp::asio::tcp_client client(ioc, loop, "127.0.0.1", srv.port(),
                               {.frames = asp::asio::framing::length_prefixed});
  const asp::run_error e =
      run_error_of([&] { loop.run({}, asp::process_stream(record(), asp::none, client)); });
  EXPECT_EQ(seen, (std::vector<std::string>{"whole @86400.000000"}));
  EXPECT_TRUE(std::string(e.what()).ends_with(
      "connection closed by the peer in the middle of a frame (6 bytes received)"))
      << e.what();
}

// A reset after whole lines ends the source and says so; in the middle of a line, the line is
// lost, and that fails the source. The server resets once the client has the lines (a reset
// before the client took the connection in would be a failure to connect).
TEST_F(Tcp, AResetEndsTheSourceAndSaysHowAndACutLineIsAnError) {
  auto reset_after = [&](std::string last) {
    return [this, last](asp::time_point t, const std::string& frame) {
      record()(t, frame);
      if (frame == last) srv.reset_last();
    };
  };
  srv.m_scripts.push_back({"a\nb\n", false});
  asp::asio::tcp_client client(ioc, loop, "127.0.0.1", srv.port());
  loop.run({}, asp::process_stream(reset_after("b"), asp::none, client));
  EXPECT_EQ(seen, (std::vector<std::string>{"a @86400.000000", "b @86400.000000"}));
  EXPECT_EQ(client.ended(), "reset by the peer (Connection reset by peer)");

  seen.clear();
  srv.m_scripts.push_back({"c\nd", false});
  asp::asio::tcp_client cut(ioc, loop, "127.0.0.1", srv.port());
  const asp::run_error e =
      run_error_of([&] { loop.run({}, asp::process_stream(reset_after("c"), asp::none, cut)); });
  EXPECT_EQ(seen, (std::vector<std::string>{"c @86400.000000"}));
  EXPECT_TRUE(std::string(e.what()).ends_with(
      "connection reset by the peer (Connection reset by peer) in the middle of a frame (1 bytes "
      "received)"))
      << e.what();
}

TEST_F(Tcp, WithReconnectTheSourceSurvivesAServerRestartAndReportsTheGap) {
  srv.m_scripts.push_back({"before\n"});
  srv.m_scripts.push_back({"after\n", false});
  std::vector<std::string> hooks;
  asp::asio::tcp_client client(
      ioc, loop, "127.0.0.1", srv.port(),
      {.reconnect = {.enabled = true, .initial_delay = std::chrono::milliseconds(250)},
       .on_connect = [&](const std::string&) { hooks.push_back("connected"); },
       .on_disconnect = [&](const std::string& reason) { hooks.push_back(reason); }});
  auto on_frame = [&](asp::time_point t, const std::string& frame) {
    seen.push_back(frame + " @" + std::to_string(secs(t)));
    if (frame == "after") client.close();
  };
  loop.run({}, asp::process_stream(on_frame, asp::none, client));
  EXPECT_EQ(seen, (std::vector<std::string>{"before @86400.000000", "after @86400.000000"}));
  EXPECT_EQ(hooks, (std::vector<std::string>{"connected", "closed by the peer", "connected"}));
  EXPECT_EQ(client.connections(), 2u);
}

TEST_F(Tcp, WithReconnectARefusingServerIsRetriedWithBackOffOnTheLoopsClock) {
  const std::uint16_t port = srv.port();
  srv.stop();
  asp::asio::tcp_client client(ioc, loop, "127.0.0.1", port,
                               {.reconnect = {.enabled = true,
                                              .initial_delay = std::chrono::seconds(1),
                                              .max_delay = std::chrono::seconds(3),
                                              .max_attempts = 4}});
  const asp::run_error e =
      run_error_of([&] { loop.run({}, asp::process_stream(record(), asp::none, client)); });
  EXPECT_TRUE(std::string(e.what()).ends_with(": Connection refused")) << e.what();
  // Waited 1 s, 2 s and 3 s (capped) between the four attempts, on the manual clock.
  EXPECT_EQ(clock.now(), t0 + 24h + 6s);
}

TEST_F(Tcp, AStopWhileAReadIsPendingLeavesTheSourceForTheNextRun) {
  tcp::acceptor acceptor(ioc, tcp::endpoint(boost::asio::ip::address_v4::loopback(), 0));
  tcp::socket peer(ioc);
  acceptor.async_accept(peer, [&](const boost::system::error_code& ec) { ASSERT_FALSE(ec); });
  // Once connected, the stream waits for data; a second later the run is stopped.
  asp::asio::tcp_client client(ioc, loop, "127.0.0.1", acceptor.local_endpoint().port(),
                               {.on_connect = [&](const std::string&) {
                                 loop.call_at(clock.now() + 1s, [&] { loop.stop(); });
                               }});
  asp::start(loop, asp::process_stream(record(), asp::none, client)).detach();
  loop.run();
  EXPECT_TRUE(seen.empty());
  // The peer speaks and hangs up; the next run picks the read up where it was.
  ioc.poll();  // the server side's accept, if the stopped run did not get to it
  ASSERT_TRUE(peer.is_open());
  boost::asio::write(peer, boost::asio::buffer(std::string("late\n")));
  peer.close();
  loop.run();
  EXPECT_EQ(seen, (std::vector<std::string>{"late @86401.000000"}));
}

TEST_F(Tcp, SendFramesToThePeer) {
  tcp::acceptor acceptor(ioc, tcp::endpoint(boost::asio::ip::address_v4::loopback(), 0));
  tcp::socket peer(ioc);
  std::string received;
  asp::asio::tcp_client client(ioc, loop, "127.0.0.1", acceptor.local_endpoint().port(),
                               {.frames = asp::asio::framing::length_prefixed});
  acceptor.async_accept(peer, [&](const boost::system::error_code& ec) { ASSERT_FALSE(ec); });
  auto talk = [&]() -> asp::task<void> {
    co_await client.send("hello");
    co_await client.send("");
    client.close();
  };
  loop.run(talk());
  peer.non_blocking(false);
  char buffer[64];
  boost::system::error_code ec;
  const std::size_t n = peer.read_some(boost::asio::buffer(buffer), ec);
  received.assign(buffer, n);
  EXPECT_EQ(received, prefixed("hello") + prefixed(""));
}

TEST_F(Tcp, ClosingWhileASendIsInProgressWritesItFirstThenEndsTheConnection) {
  tcp::acceptor acceptor(ioc, tcp::endpoint(boost::asio::ip::address_v4::loopback(), 0));
  tcp::socket peer(ioc);
  acceptor.async_accept(peer, [&](const boost::system::error_code& ec) { ASSERT_FALSE(ec); });
  asp::asio::tcp_client client(ioc, loop, "127.0.0.1", acceptor.local_endpoint().port());
  // More than loopback buffers hold: the write is still in progress while the peer reads
  // nothing.
  const std::string big(16 << 20, 'x');
  std::string received;
  boost::system::error_code end;
  auto sender = [&]() -> asp::task<void> { co_await client.send(big); };
  auto closer = [&]() -> asp::task<void> {
    while (client.connections() == 0 || !peer.is_open()) co_await asp::sleep(1ms);
    client.close();
    boost::asio::async_read(peer, boost::asio::dynamic_buffer(received),
                            [&](const boost::system::error_code& ec, std::size_t) { end = ec; });
  };
  loop.run({}, sender(), closer());
  srv.stop();
  backend.finish();
  EXPECT_EQ(received.size(), big.size() + 1);
  EXPECT_EQ(received.back(), '\n');
  EXPECT_EQ(end, boost::asio::error::eof);
}

}  // namespace

// asp::asio::udp_source: datagrams on a bound port as live events.
#include <asp/asio/udp.hpp>

#include <asp/asio/backend.hpp>
#include <asp/asp.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "asio_loop.hpp"
#include "test_support.hpp"

namespace {

using namespace asp::testing;
using boost::asio::ip::udp;

struct Udp : ::testing::Test, asio_loop {
  udp::socket sender{ioc, udp::endpoint(udp::v4(), 0)};
  std::vector<std::string> seen;

  void send(const std::string& datagram, std::uint16_t port) {
    sender.send_to(boost::asio::buffer(datagram),
                   udp::endpoint(boost::asio::ip::address_v4::loopback(), port));
  }
};

TEST_F(Udp, DatagramsAreEventsStampedOnArrival) {
  asp::asio::udp_source source(ioc, loop, "127.0.0.1", 0);
  send("tick 1", source.port());
  send("tick 2", source.port());
  auto on_datagram = [&](asp::time_point t, const std::string& d) {
    seen.push_back(d + " @" + std::to_string(secs(t)));
    if (d == "tick 2") source.close();
  };
  loop.run({}, asp::process_stream(on_datagram, asp::none, source));
  EXPECT_EQ(seen, (std::vector<std::string>{"tick 1 @86400.000000", "tick 2 @86400.000000"}));
}

TEST_F(Udp, ADatagramOverTheMaximumFailsTheSource) {
  asp::asio::udp_source source(ioc, loop, "127.0.0.1", 0, {.name = "ticks", .max_datagram = 8});
  send(std::string(20, 'x'), source.port());
  const asp::run_error e = run_error_of([&] {
    loop.run({},
             asp::process_stream([](asp::time_point, const std::string&) {}, asp::none, source));
  });
  EXPECT_TRUE(std::string(e.what()).ends_with(
      "asp: udp source 'ticks': datagram 1 is over the maximum of 8 bytes"))
      << e.what();
}

TEST_F(Udp, ABadAddressIsReportedWhenBinding) {
  EXPECT_THROW(asp::asio::udp_source(ioc, loop, "not an address", 0), asp::input_error);
}

}  // namespace

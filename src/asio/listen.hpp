#pragma once

// Opening a listening socket, for asp::asio's servers (broadcast, metrics). Private to them.

#include <asp/error.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

#include <cstdint>
#include <string>

namespace asp::asio::detail {

/// Opens `acceptor` listening on ADDRESS:PORT; asp::input_error "asp: KIND 'NAME': cannot listen
/// on ADDRESS:PORT: reason" when it cannot.
inline void listen(boost::asio::ip::tcp::acceptor& acceptor, const std::string& address,
                   std::uint16_t port, const std::string& what) {
  using boost::asio::ip::tcp;
  boost::system::error_code ec;
  const auto ip = boost::asio::ip::make_address(address, ec);
  const tcp::endpoint endpoint(ip, port);
  if (!ec) acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(tcp::socket::max_listen_connections, ec);
  if (ec) {
    throw input_error("asp: " + what + ": cannot listen on " + address + ":" +
                      std::to_string(port) + ": " + ec.message());
  }
}

}  // namespace asp::asio::detail

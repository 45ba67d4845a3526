#include <asp/asio/udp.hpp>

#include <asp/asio/use_task.hpp>
#include <asp/error.hpp>

#include "source_support.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/udp.hpp>

#include <exception>
#include <utility>
#include <vector>

namespace asp::asio {

struct udp_source::state {
  state(boost::asio::io_context& ioc, asp::loop& l, const std::string& address, std::uint16_t port,
        udp_options opts)
      : m_loop(&l),
        m_options(std::move(opts)),
        m_socket(ioc),
        m_buffer(m_options.max_datagram + 1) {
    if (m_options.name.empty()) m_options.name = address + ":" + std::to_string(port);
    boost::system::error_code ec;
    const auto ip = boost::asio::ip::make_address(address, ec);
    const boost::asio::ip::udp::endpoint endpoint(ip, port);
    if (!ec) m_socket.open(endpoint.protocol(), ec);
    if (!ec) m_socket.bind(endpoint, ec);
    if (ec)
      throw input_error(where() + ": cannot bind " + address + ":" + std::to_string(port) + ": " +
                        ec.message());
    m_guard = l.hold();
  }

  ~state() { close(); }

  std::string where() const { return "asp: udp source '" + m_options.name + "'"; }

  void close() {
    if (m_closed) return;
    m_closed = true;
    boost::system::error_code ignored;
    m_socket.close(ignored);
    m_guard.reset();
  }

  asp::loop* m_loop;
  udp_options m_options;
  boost::asio::ip::udp::socket m_socket;
  std::vector<char> m_buffer;
  work_guard m_guard;
  bool m_closed = false;
  std::size_t m_count = 0;
  std::uint64_t m_bytes = 0;
};

udp_source::udp_source(boost::asio::io_context& ioc, asp::loop& loop, const std::string& address,
                       std::uint16_t port, udp_options options)
    : m_state(std::make_shared<state>(ioc, loop, address, port, std::move(options))) {}

std::uint16_t udp_source::port() const {
  return m_state->m_socket.local_endpoint().port();
}

std::uint64_t udp_source::datagrams() const noexcept {
  return m_state->m_count;
}

std::uint64_t udp_source::bytes() const noexcept {
  return m_state->m_bytes;
}

void udp_source::close() {
  m_state->close();
}

task<std::optional<event<std::string>>> udp_source::next() {
  const std::shared_ptr<state> keep = m_state;
  state& s = *keep;
  if (s.m_closed) co_return std::nullopt;
  boost::system::error_code failure;
  std::size_t got = 0;
  try {
    got = co_await s.m_socket.async_receive(boost::asio::buffer(s.m_buffer), use_task);
  } catch (const boost::system::system_error& e) {
    failure = e.code();
  }
  if (s.m_closed || failure == boost::asio::error::operation_aborted) co_return std::nullopt;
  if (failure) throw input_error(s.where() + ": cannot receive: " + failure.message());
  if (got > s.m_options.max_datagram) {
    throw input_error(s.where() + ": datagram " + std::to_string(s.m_count + 1) +
                      " is over the maximum of " + std::to_string(s.m_options.max_datagram) +
                      " bytes");
  }
  s.m_bytes += got;
  // Resumed by work due at the datagram's arrival stamp.
  event<std::string> e = detail::stamp(
      std::string(s.m_buffer.data(), got), s.m_loop->current_due(), s.m_options.time_of,
      [&] { return s.where() + ", datagram " + std::to_string(s.m_count + 1); });
  ++s.m_count;
  co_return e;
}

}  // namespace asp::asio

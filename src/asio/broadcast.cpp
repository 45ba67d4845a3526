#include <asp/asio/broadcast.hpp>

#include <asp/error.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include <utility>

#include "broadcast_core.hpp"
#include "framer.hpp"

namespace asp::asio {

using boost::asio::ip::tcp;

namespace {

struct tcp_client_connection final : detail::broadcast_client {
  explicit tcp_client_connection(tcp::socket s) : socket(std::move(s)) {}
  void write(const std::string& bytes,
             std::function<void(const boost::system::error_code&)> done) override {
    boost::asio::async_write(
        socket, boost::asio::buffer(bytes),
        [done = std::move(done)](const boost::system::error_code& ec, std::size_t) { done(ec); });
  }
  // The server's side ends: the client reads an end of stream after the last frame.
  void finish() override {
    boost::system::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
  }
  void abort() override {
    boost::system::error_code ignored;
    socket.close(ignored);
  }
  tcp::socket socket;
};

}  // namespace

broadcast_server::broadcast_server(std::shared_ptr<detail::broadcast_listener> listener)
    : m_listener(std::move(listener)) {}

broadcast_server::~broadcast_server() {
  m_listener->close();
}

std::uint16_t broadcast_server::port() const {
  return m_listener->port();
}

std::size_t broadcast_server::clients() const noexcept {
  return m_listener->core()->clients();
}

std::size_t broadcast_server::queued() const noexcept {
  return m_listener->core()->queued();
}

void broadcast_server::close() {
  m_listener->close();
}

task<void> broadcast_server::drained() {
  return detail::broadcast_core::drained(m_listener->core());
}

void broadcast_server::abort() {
  m_listener->abort();
}

task<void> broadcast_server::publish_frame(std::string frame) {
  return detail::broadcast_core::publish(m_listener->core(), std::move(frame));
}

namespace {

std::shared_ptr<detail::broadcast_listener> listen_tcp(boost::asio::io_context& ioc, asp::loop& l,
                                                       const std::string& address,
                                                       std::uint16_t port,
                                                       broadcast_options options) {
  auto listener = std::make_shared<detail::broadcast_listener>(
      ioc, l, address, port, std::move(options), "broadcast server");
  listener->start([core = listener->core()](tcp::socket socket, std::string peer) {
    auto c = std::make_shared<tcp_client_connection>(std::move(socket));
    c->peer = std::move(peer);
    core->add(c);
  });
  return listener;
}

}  // namespace

tcp_broadcast_server::tcp_broadcast_server(boost::asio::io_context& ioc, asp::loop& loop,
                                           const std::string& address, std::uint16_t port,
                                           broadcast_options options)
    : broadcast_server(listen_tcp(ioc, loop, address, port, options)), m_frames(options.frames) {}

task<void> tcp_broadcast_server::publish(std::string frame) {
  return publish_frame(detail::encode_frame(m_frames, std::move(frame)));
}

}  // namespace asp::asio

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

struct tcp_broadcast_server::state : std::enable_shared_from_this<tcp_broadcast_server::state> {
  state(boost::asio::io_context& ioc, asp::loop& l, const std::string& address, std::uint16_t port,
        broadcast_options opts)
      : m_acceptor(ioc) {
    if (opts.name.empty()) opts.name = address + ":" + std::to_string(port);
    m_frames = opts.frames;
    detail::listen(m_acceptor, address, port, "broadcast server '" + opts.name + "'");
    m_core = std::make_shared<detail::broadcast_core>(l, std::move(opts));
  }

  void accept() {
    m_acceptor.async_accept(
        [self = shared_from_this()](const boost::system::error_code& ec, tcp::socket socket) {
          if (ec) {
            self->m_core->accept_failed(ec, [self] { self->accept(); });
            return;
          }
          if (self->m_core->closed()) return;
          auto c = std::make_shared<tcp_client_connection>(std::move(socket));
          boost::system::error_code ignored;
          const auto remote = c->socket.remote_endpoint(ignored);
          c->peer = remote.address().to_string() + ":" + std::to_string(remote.port());
          self->m_core->add(c);
          self->accept();
        });
  }

  void close() {
    boost::system::error_code ignored;
    m_acceptor.close(ignored);
    m_core->close();
  }

  void abort() {
    boost::system::error_code ignored;
    m_acceptor.close(ignored);
    m_core->abort();
  }

  tcp::acceptor m_acceptor;
  framing m_frames = framing::lines;
  std::shared_ptr<detail::broadcast_core> m_core;
};

tcp_broadcast_server::tcp_broadcast_server(boost::asio::io_context& ioc, asp::loop& loop,
                                           const std::string& address, std::uint16_t port,
                                           broadcast_options options)
    : m_state(std::make_shared<state>(ioc, loop, address, port, std::move(options))) {
  m_state->accept();
}

tcp_broadcast_server::~tcp_broadcast_server() {
  m_state->close();
}

std::uint16_t tcp_broadcast_server::port() const {
  return m_state->m_acceptor.local_endpoint().port();
}

void tcp_broadcast_server::close() {
  m_state->close();
}

std::size_t tcp_broadcast_server::clients() const noexcept {
  return m_state->m_core->clients();
}

std::size_t tcp_broadcast_server::queued() const noexcept {
  return m_state->m_core->queued();
}

task<void> tcp_broadcast_server::publish(std::string frame) {
  return detail::broadcast_core::publish(m_state->m_core,
                                         detail::encode_frame(m_state->m_frames, std::move(frame)));
}

task<void> tcp_broadcast_server::drained() {
  return detail::broadcast_core::drained(m_state->m_core);
}

void tcp_broadcast_server::abort() {
  m_state->abort();
}

}  // namespace asp::asio

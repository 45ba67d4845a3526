#include <asp/asio/broadcast.hpp>

#include <asp/error.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include <coroutine>
#include <deque>
#include <list>
#include <stdexcept>
#include <utility>
#include <vector>

namespace asp::asio {

using boost::asio::ip::tcp;

namespace {

std::string frame_bytes(framing frames, std::string frame) {
  if (frames == framing::lines) {
    frame.push_back('\n');
    return frame;
  }
  const auto size = static_cast<std::uint32_t>(frame.size());
  std::string bytes{static_cast<char>((size >> 24) & 0xff), static_cast<char>((size >> 16) & 0xff),
                    static_cast<char>((size >> 8) & 0xff), static_cast<char>(size & 0xff)};
  return bytes + frame;
}

}  // namespace

struct tcp_broadcast_server::state : std::enable_shared_from_this<tcp_broadcast_server::state> {
  struct client {
    explicit client(tcp::socket s) : socket(std::move(s)) {}
    tcp::socket socket;
    std::string peer;
    std::deque<std::shared_ptr<const std::string>> queue;
    bool writing = false;
    bool gone = false;
    bool closing = false;  // the server closed: write what is queued, then disconnect
  };
  using client_ptr = std::shared_ptr<client>;

  state(boost::asio::io_context& ioc, asp::loop& l, const std::string& address, std::uint16_t port,
        broadcast_options opts)
      : m_loop(&l), m_options(std::move(opts)), m_acceptor(ioc) {
    if (m_options.name.empty()) m_options.name = address + ":" + std::to_string(port);
    boost::system::error_code ec;
    const auto ip = boost::asio::ip::make_address(address, ec);
    const tcp::endpoint endpoint(ip, port);
    if (!ec) m_acceptor.open(endpoint.protocol(), ec);
    if (!ec) m_acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) m_acceptor.bind(endpoint, ec);
    if (!ec) m_acceptor.listen(tcp::socket::max_listen_connections, ec);
    if (ec) {
      throw input_error("asp: broadcast server '" + m_options.name + "': cannot listen on " +
                        address + ":" + std::to_string(port) + ": " + ec.message());
    }
    m_guard = l.hold();
  }

  void accept() {
    m_acceptor.async_accept(
        [self = shared_from_this()](const boost::system::error_code& ec, tcp::socket socket) {
          if (ec || self->m_closed) return;
          auto c = std::make_shared<client>(std::move(socket));
          boost::system::error_code ignored;
          const auto remote = c->socket.remote_endpoint(ignored);
          c->peer = remote.address().to_string() + ":" + std::to_string(remote.port());
          self->m_clients.push_back(c);
          if (self->m_options.on_client) self->m_options.on_client(c->peer);
          self->accept();
        });
  }

  bool has_room() const {
    for (const client_ptr& c : m_clients) {
      if (c->queue.size() >= m_options.queue_limit) return false;
    }
    return true;
  }

  void enqueue(const std::shared_ptr<const std::string>& bytes) {
    for (auto it = m_clients.begin(); it != m_clients.end();) {
      const client_ptr c = *it++;
      if (c->queue.size() >= m_options.queue_limit) {
        drop(c, "too slow: " + std::to_string(c->queue.size()) + " frames queued");
        continue;
      }
      c->queue.push_back(bytes);
      write(c);
    }
  }

  void write(const client_ptr& c) {
    if (c->writing || c->queue.empty() || c->gone) return;
    c->writing = true;
    boost::asio::async_write(
        c->socket, boost::asio::buffer(*c->queue.front()),
        [self = shared_from_this(), c](const boost::system::error_code& ec, std::size_t) {
          c->writing = false;
          if (c->gone) return;
          if (ec) {
            self->drop(c, ec.message());
            return;
          }
          c->queue.pop_front();
          if (c->closing && c->queue.empty()) {
            self->finish(c);
            return;
          }
          self->write(c);
          self->wake_publishers();
        });
  }

  void drop(const client_ptr& c, const std::string& reason) {
    if (c->gone) return;
    c->gone = true;
    boost::system::error_code ignored;
    c->socket.close(ignored);
    c->queue.clear();
    m_clients.remove(c);
    m_closing.remove(c);
    if (m_options.on_drop && !c->closing) m_options.on_drop(c->peer, reason);
    wake_publishers();
  }

  // A client of a closed server whose queue is written: the server's side of the connection
  // ends, so the client reads an end of stream after the last frame.
  void finish(const client_ptr& c) {
    c->gone = true;
    boost::system::error_code ignored;
    c->socket.shutdown(tcp::socket::shutdown_both, ignored);
    c->socket.close(ignored);
    m_closing.remove(c);
  }

  // Blocked publishers go on, through the loop's queue, once every client has room. A publisher
  // destroyed meanwhile (its task cancelled) is skipped: its token is gone.
  void wake_publishers() {
    if (m_blocked.empty() || (!has_room() && !m_closed)) return;
    std::vector<blocked> waiting;
    waiting.swap(m_blocked);
    for (const blocked& b : waiting) {
      m_loop->call_soon([b] {
        if (b.alive.lock()) b.publisher.resume();
      });
    }
  }

  void close() {
    if (m_closed) return;
    m_closed = true;
    boost::system::error_code ignored;
    m_acceptor.close(ignored);
    // Every client is told now; each gets what was queued for it before its connection ends.
    std::list<client_ptr> clients;
    clients.swap(m_clients);
    for (const client_ptr& c : clients) {
      if (m_options.on_drop) m_options.on_drop(c->peer, "the server closed");
      c->closing = true;
      if (c->queue.empty() && !c->writing) {
        finish(c);
      } else {
        m_closing.push_back(c);
      }
    }
    wake_publishers();
    m_guard.reset();
  }

  std::size_t queued() const noexcept {
    std::size_t n = 0;
    for (const client_ptr& c : m_clients) n += c->queue.size();
    for (const client_ptr& c : m_closing) n += c->queue.size();
    return n;
  }

  asp::loop* m_loop;
  broadcast_options m_options;
  tcp::acceptor m_acceptor;
  std::list<client_ptr> m_clients;
  std::list<client_ptr> m_closing;  // closed server, queue still being written
  struct blocked {
    std::coroutine_handle<> publisher;
    std::weak_ptr<bool> alive;
  };
  std::vector<blocked> m_blocked;
  work_guard m_guard;
  bool m_closed = false;
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
  return m_state->m_clients.size();
}

std::size_t tcp_broadcast_server::queued() const noexcept {
  return m_state->queued();
}

task<void> tcp_broadcast_server::publish(std::string frame) {
  const std::shared_ptr<state> keep = m_state;
  state& s = *keep;
  if (s.m_closed)
    throw std::logic_error("asp: broadcast server '" + s.m_options.name + "': publish after close");
  if (s.m_options.policy == slow_client::block) {
    struct until_room {
      state& s;
      std::shared_ptr<bool> alive = std::make_shared<bool>(true);
      bool await_ready() const { return s.has_room() || s.m_closed; }
      void await_suspend(std::coroutine_handle<> h) { s.m_blocked.push_back({h, alive}); }
      void await_resume() const noexcept {}
    };
    while (!s.has_room() && !s.m_closed) co_await until_room{s};
    if (s.m_closed) co_return;
  }
  s.enqueue(std::make_shared<const std::string>(frame_bytes(s.m_options.frames, std::move(frame))));
}

}  // namespace asp::asio

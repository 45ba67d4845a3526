#pragma once

// What a broadcast server does whatever carries its frames (TCP, websocket): a bounded queue
// per client, the slow-client policy, publishers that wait for room, and a close that lets
// every client receive what was queued for it. The transports supply the connections.

#include <asp/asio/broadcast.hpp>
#include <asp/error.hpp>
#include <asp/loop.hpp>
#include <asp/task.hpp>

#include "listen.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/errc.hpp>
#include <boost/system/error_code.hpp>

#include <algorithm>
#include <chrono>

#include <coroutine>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace asp::asio::detail {

/// One client's connection, as the core sees it.
struct broadcast_client {
  virtual ~broadcast_client() = default;
  /// Writes `bytes` (which lives until `done`); calls `done` on the loop's thread.
  virtual void write(const std::string& bytes,
                     std::function<void(const boost::system::error_code&)> done) = 0;
  /// Ends the connection after what was written (the server closed).
  virtual void finish() = 0;
  /// Ends the connection at once.
  virtual void abort() = 0;

  std::string peer;
  std::uint64_t delivered = 0;  // frames written whole
  std::deque<std::shared_ptr<const std::string>> queue;
  bool writing = false;
  bool gone = false;
  bool closing = false;
};

class broadcast_core : public std::enable_shared_from_this<broadcast_core> {
 public:
  using client_ptr = std::shared_ptr<broadcast_client>;

  broadcast_core(asp::loop& l, broadcast_options options)
      : m_loop(&l), m_options(std::move(options)), m_guard(l.hold()) {}

  const broadcast_options& options() const noexcept { return m_options; }
  bool closed() const noexcept { return m_closed; }
  std::size_t clients() const noexcept { return m_clients.size(); }

  std::size_t queued() const noexcept {
    std::size_t n = 0;
    for (const client_ptr& c : m_clients) n += c->queue.size();
    for (const client_ptr& c : m_closing) n += c->queue.size();
    return n;
  }

  /// A client is connected (and, for a websocket, has shaken hands).
  void add(const client_ptr& c) {
    if (m_closed) {
      c->abort();
      return;
    }
    m_clients.push_back(c);
    m_accept_pause = duration::zero();  // the next failure to accept is said again
    if (m_options.on_client) m_options.on_client(c->peer);
  }

  /// Accepting failed with `ec`: `again` accepts again — at once when that one connection
  /// failed (reset before it was accepted), after a pause when the process lacks resources
  /// (descriptors, memory), which on_error says once until an accept succeeds.
  void accept_failed(const boost::system::error_code& ec, std::function<void()> again) {
    namespace errc = boost::system::errc;
    if (m_closed || ec == boost::asio::error::operation_aborted) return;
    const bool starved = ec == errc::too_many_files_open ||
                         ec == errc::too_many_files_open_in_system || ec == errc::no_buffer_space ||
                         ec == errc::not_enough_memory;
    if (!starved) {
      again();
      return;
    }
    using namespace std::chrono_literals;
    if (m_accept_pause == duration::zero()) {
      m_accept_pause = 50ms;
      if (m_options.on_error) {
        m_options.on_error("cannot accept a client: " + ec.message() +
                           "; trying again after 50 ms, then up to every second, until it can");
      }
    } else {
      m_accept_pause = std::min<duration>(m_accept_pause * 2, 1s);
    }
    m_accept_retry = m_loop->call_later(m_accept_pause, std::move(again));
  }

  /// A client is gone, or is to be: its queue is dropped.
  void drop(const client_ptr& c, const std::string& reason) {
    if (c->gone) return;
    c->gone = true;
    c->abort();
    c->queue.clear();
    m_clients.remove(c);
    m_closing.remove(c);
    if (m_options.on_drop && !c->closing) m_options.on_drop(c->peer, reason);
    wake_publishers();
    wake_drained();
  }

  /// Queues `frame` (framed for the wire) for every client: publish's work. The task holds the
  /// core from its creation, so the server may go before it runs.
  static task<void> publish(std::shared_ptr<broadcast_core> self, std::string frame) {
    broadcast_core& core = *self;
    if (core.m_closed) {
      throw std::logic_error("asp: broadcast server '" + core.m_options.name +
                             "': publish after close");
    }
    if (core.m_options.policy == slow_client::block) {
      struct until_room {
        broadcast_core& core;
        std::shared_ptr<bool> alive = std::make_shared<bool>(true);
        bool await_ready() const { return core.has_room() || core.m_closed; }
        void await_suspend(std::coroutine_handle<> h) { core.m_blocked.push_back({h, alive}); }
        void await_resume() const noexcept {}
      };
      while (!core.has_room() && !core.m_closed) co_await until_room{core};
      if (core.m_closed) co_return;
    }
    core.enqueue(std::make_shared<const std::string>(std::move(frame)));
  }

  /// Stops the run being held; every client is told, receives what was queued for it, and
  /// is then finished.
  void close() {
    if (m_closed) return;
    m_closed = true;
    std::list<client_ptr> clients;
    clients.swap(m_clients);
    for (const client_ptr& c : clients) {
      if (m_options.on_drop) m_options.on_drop(c->peer, "the server closed");
      c->closing = true;
      if (c->queue.empty() && !c->writing) {
        c->gone = true;
        c->finish();
      } else {
        m_closing.push_back(c);
      }
    }
    m_accept_retry.cancel();
    wake_publishers();
    wake_drained();
    m_guard.reset();
  }

  /// Ends every connection now, whatever is queued: on_drop says what each client was sent.
  void abort() {
    m_closed = true;
    m_accept_retry.cancel();
    std::list<client_ptr> all;
    all.splice(all.end(), m_clients);
    all.splice(all.end(), m_closing);
    for (const client_ptr& c : all) {
      if (c->gone) continue;
      const std::size_t lost = c->queue.size();
      c->gone = true;
      c->abort();
      c->queue.clear();
      if (m_options.on_drop) {
        m_options.on_drop(c->peer, "stopped: " + std::to_string(c->delivered) +
                                       " frames delivered, " + std::to_string(lost) + " not");
      }
    }
    wake_publishers();
    wake_drained();
    m_guard.reset();
  }

  /// Completes once closed and every client has what was queued for it, or was dropped.
  static task<void> drained(std::shared_ptr<broadcast_core> self) {
    broadcast_core& core = *self;
    struct until_drained {
      broadcast_core& core;
      std::shared_ptr<bool> alive = std::make_shared<bool>(true);
      bool await_ready() const { return core.is_drained(); }
      void await_suspend(std::coroutine_handle<> h) { core.m_draining.push_back({h, alive}); }
      void await_resume() const noexcept {}
    };
    while (!core.is_drained()) co_await until_drained{core};
  }

 private:
  bool is_drained() const noexcept { return m_closed && m_closing.empty(); }

  void wake_drained() {
    if (m_draining.empty() || !is_drained()) return;
    std::vector<blocked> waiting;
    waiting.swap(m_draining);
    for (const blocked& b : waiting) {
      m_loop->call_soon([b] {
        if (b.alive.lock()) b.publisher.resume();
      });
    }
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
    c->write(*c->queue.front(),
             [self = shared_from_this(), c](const boost::system::error_code& ec) {
               c->writing = false;
               if (c->gone) return;
               if (ec) {
                 self->drop(c, ec.message());
                 return;
               }
               c->queue.pop_front();
               ++c->delivered;
               if (c->closing && c->queue.empty()) {
                 c->gone = true;
                 c->finish();
                 self->m_closing.remove(c);
                 self->wake_drained();
                 return;
               }
               self->write(c);
               self->wake_publishers();
             });
  }

  // Blocked publishers go on, through the loop's queue, once every client has room. A
  // publisher destroyed meanwhile (its task cancelled) is skipped: its token is gone.
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

  struct blocked {
    std::coroutine_handle<> publisher;
    std::weak_ptr<bool> alive;
  };

  asp::loop* m_loop;
  broadcast_options m_options;
  std::list<client_ptr> m_clients;
  std::list<client_ptr> m_closing;  // of a closed server, queue still being written
  std::vector<blocked> m_blocked;
  std::vector<blocked> m_draining;  // awaiting drained()
  work_guard m_guard;
  duration m_accept_pause{};  // zero: accepting works (or its failure is not yet said)
  timer_handle m_accept_retry;
  bool m_closed = false;
};

/// The listening half of both broadcast servers: the acceptor, accepting again after a failure
/// (through the core's pause), the peer's address, and stopping. `on_connection` turns an
/// accepted socket into a transport's connection and adds it to the core when it is ready; it
/// is not called once the server is closed.
class broadcast_listener : public std::enable_shared_from_this<broadcast_listener> {
 public:
  using on_connection = std::function<void(boost::asio::ip::tcp::socket, std::string peer)>;

  /// Listens on ADDRESS:PORT for the server KIND ("broadcast server", …); throws
  /// asp::input_error when it cannot.
  broadcast_listener(boost::asio::io_context& ioc, asp::loop& l, const std::string& address,
                     std::uint16_t port, broadcast_options opts, const std::string& kind)
      : m_acceptor(ioc) {
    if (opts.name.empty()) opts.name = address + ":" + std::to_string(port);
    listen(m_acceptor, address, port, kind + " '" + opts.name + "'");
    m_core = std::make_shared<broadcast_core>(l, std::move(opts));
  }

  /// Starts accepting; every accepted socket goes to `f`.
  void start(on_connection f) {
    m_on_connection = std::move(f);
    accept();
  }

  const std::shared_ptr<broadcast_core>& core() const noexcept { return m_core; }
  std::uint16_t port() const { return m_acceptor.local_endpoint().port(); }

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

 private:
  void accept() {
    m_acceptor.async_accept([self = shared_from_this()](const boost::system::error_code& ec,
                                                        boost::asio::ip::tcp::socket socket) {
      if (ec) {
        self->m_core->accept_failed(ec, [self] { self->accept(); });
        return;
      }
      if (self->m_core->closed()) return;
      boost::system::error_code ignored;
      const auto remote = socket.remote_endpoint(ignored);
      self->m_on_connection(std::move(socket),
                            remote.address().to_string() + ":" + std::to_string(remote.port()));
      self->accept();
    });
  }

  boost::asio::ip::tcp::acceptor m_acceptor;
  std::shared_ptr<broadcast_core> m_core;
  on_connection m_on_connection;
};

}  // namespace asp::asio::detail

#include <asp/asio/metrics.hpp>
#include <asp/error.hpp>

#include "listen.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

namespace asp::metrics {

namespace net = boost::asio;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;

namespace {

// "HOST:PORT", "[V6]:PORT" or ":PORT" (loopback), as an IP address and a port.
std::pair<std::string, std::uint16_t> host_port_of(const std::string& address) {
  const std::size_t colon = address.rfind(':');
  if (colon == std::string::npos) {
    throw input_error("asp::metrics: '" + address + "' is not HOST:PORT");
  }
  std::string host = address.substr(0, colon);
  const std::string port_text = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) host = "127.0.0.1";
  unsigned long port = 0;
  std::size_t used = 0;
  try {
    port = std::stoul(port_text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (port_text.empty() || used != port_text.size() || port > 65535) {
    throw input_error("asp::metrics: '" + address + "': the port must be a number up to 65535");
  }
  boost::system::error_code ec;
  net::ip::make_address(host, ec);
  if (ec) throw input_error("asp::metrics: '" + address + "': not an IP address: " + host);
  return {host, static_cast<std::uint16_t>(port)};
}

}  // namespace

// The server's state lives as long as the server: sessions and handlers refer to it by a plain
// pointer, since they live only inside its io_context (run by its thread, destroyed with it).
struct server::state {
  // What the loop's side reaches: the registry while the server lives, and the io_context to
  // answer on. Guarded by `mutex`; both null once the server is gone.
  struct shared {
    std::mutex mutex;
    registry* reg = nullptr;
    net::io_context* ioc = nullptr;
  };

  class session;

  net::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::chrono::milliseconds collect_timeout;
  std::chrono::milliseconds idle_timeout;
  std::shared_ptr<shared> link = std::make_shared<shared>();
  loop* owner = nullptr;
  std::uint16_t port = 0;
  std::atomic<std::uint64_t> scrapes{0};
  // Sessions waiting for the loop, by request number (the io thread's only).
  std::map<std::uint64_t, std::weak_ptr<session>> waiting;
  std::uint64_t next_request = 0;
  std::thread thread;

  void accept();
  void collect(std::uint64_t request);
};

class server::state::session : public std::enable_shared_from_this<session> {
 public:
  session(server::state* server, tcp::socket socket)
      : m_server(server), m_stream(std::move(socket)), m_timer(m_server->ioc) {}

  void read() {
    m_request = {};
    m_stream.expires_after(m_server->idle_timeout);
    http::async_read(m_stream, m_buffer, m_request,
                     [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                       if (!ec) self->handle();
                     });
  }

  // The loop's answer (on the io thread).
  void collected(std::string text) {
    if (m_answered) return;
    m_timer.cancel();
    m_server->scrapes.fetch_add(1, std::memory_order_relaxed);
    respond(http::status::ok, std::move(text), "text/plain; version=0.0.4; charset=utf-8");
  }

 private:
  void handle() {
    m_answered = false;
    const std::string_view target = m_request.target();
    const std::string_view path = target.substr(0, target.find('?'));
    if (m_request.method() != http::verb::get && m_request.method() != http::verb::head) {
      respond(http::status::method_not_allowed, "only GET\n", "text/plain");
      return;
    }
    if (path != "/metrics") {
      respond(http::status::not_found, "metrics are at /metrics\n", "text/plain");
      return;
    }
    const std::uint64_t request = ++m_server->next_request;
    m_server->waiting[request] = weak_from_this();
    m_timer.expires_after(m_server->collect_timeout);
    m_timer.async_wait([self = shared_from_this(), request](boost::system::error_code ec) {
      if (ec || self->m_answered) return;
      self->m_server->waiting.erase(request);
      self->respond(http::status::service_unavailable,
                    "asp::metrics: the loop did not answer within " +
                        std::to_string(self->m_server->collect_timeout.count()) +
                        " ms: no run is active\n",
                    "text/plain");
    });
    m_server->collect(request);
  }

  void respond(http::status status, std::string body, const char* type) {
    m_answered = true;
    auto response =
        std::make_shared<http::response<http::string_body>>(status, m_request.version());
    response->set(http::field::server, "asp");
    response->set(http::field::content_type, type);
    response->keep_alive(m_request.keep_alive());
    if (m_request.method() == http::verb::head) {
      response->content_length(body.size());
    } else {
      response->body() = std::move(body);
      response->prepare_payload();
    }
    m_stream.expires_after(m_server->idle_timeout);
    http::async_write(
        m_stream, *response,
        [self = shared_from_this(), response](boost::system::error_code ec, std::size_t) {
          if (ec) return;
          if (response->keep_alive()) {
            self->read();
          } else {
            boost::system::error_code ignored;
            self->m_stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
          }
        });
  }

  server::state* m_server;
  boost::beast::tcp_stream m_stream;
  boost::beast::flat_buffer m_buffer;
  http::request<http::string_body> m_request;
  net::steady_timer m_timer;
  bool m_answered = false;
};

void server::state::accept() {
  acceptor.async_accept([self = this](boost::system::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !self->acceptor.is_open()) return;
    if (!ec) std::make_shared<session>(self, std::move(socket))->read();
    // A failed accept (out of descriptors) is not the end: keep accepting.
    self->accept();
  });
}

// Posts the collection into the loop, at the earliest time: it runs before the loop's next
// piece of work and moves no clock. The text comes back to the io thread by request number.
void server::state::collect(std::uint64_t request) {
  std::shared_ptr<shared> to = link;
  try {
    owner->post_at(time_point::min(), [to, request, self = this] {
      std::lock_guard lock(to->mutex);
      if (to->reg == nullptr) return;  // the server is gone
      std::string text = to->reg->collect();
      // Runs on the io thread, if at all: only while the server (and so `self`) lives.
      net::post(*to->ioc, [self, request, text = std::move(text)]() mutable {
        const auto it = self->waiting.find(request);
        if (it == self->waiting.end()) return;  // answered 503 meanwhile
        std::shared_ptr<session> waiter = it->second.lock();
        self->waiting.erase(it);
        if (waiter) waiter->collected(std::move(text));
      });
    });
  } catch (const std::logic_error&) {
    // The loop is gone: the timer answers 503.
  }
}

server::server(registry& reg, const std::string& address, std::chrono::milliseconds collect_timeout,
               std::chrono::milliseconds idle_timeout)
    : m_state(std::make_shared<state>()) {
  state& s = *m_state;
  s.collect_timeout = collect_timeout;
  s.idle_timeout = idle_timeout;
  s.owner = &reg.owner();
  const auto [host, port] = host_port_of(address);
  asp::asio::detail::listen(s.acceptor, host, port, "metrics server");
  s.port = s.acceptor.local_endpoint().port();
  {
    std::lock_guard lock(s.link->mutex);
    s.link->reg = &reg;
    s.link->ioc = &s.ioc;
  }
  s.accept();
  s.thread = std::thread([&s] { s.ioc.run(); });
}

server::~server() {
  {
    std::lock_guard lock(m_state->link->mutex);
    m_state->link->reg = nullptr;
    m_state->link->ioc = nullptr;
  }
  net::post(m_state->ioc, [&s = *m_state] {
    boost::system::error_code ignored;
    s.acceptor.close(ignored);
    s.ioc.stop();
  });
  m_state->thread.join();
}

std::uint16_t server::port() const noexcept {
  return m_state->port;
}

std::uint64_t server::scrapes() const noexcept {
  return m_state->scrapes.load(std::memory_order_relaxed);
}

}  // namespace asp::metrics

// The only translation unit of the library that includes Boost.Beast (and OpenSSL).
#include <asp/asio/websocket.hpp>

#include <asp/asio/use_task.hpp>
#include <asp/error.hpp>
#include <asp/utf8.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <openssl/ssl.h>

#include <exception>
#include <stdexcept>
#include <utility>

#include "broadcast_core.hpp"
#include "source_support.hpp"

namespace asp::asio {

namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
namespace ssl = boost::asio::ssl;
using boost::asio::ip::tcp;

namespace {

// A TCP stream on the io_context's own executor type: every Beast operation copies and
// destroys its stream's executor several times, which for the type-erased any_io_executor of
// beast::tcp_stream was a sixth of a message's cost.
using tcp_stream =
    beast::basic_stream<tcp, boost::asio::io_context::executor_type, beast::unlimited_rate_policy>;

// One websocket connection, over TCP or over TLS: what the source needs of it.
struct connection {
  virtual ~connection() = default;
  virtual task<void> open(tcp::resolver::results_type endpoints, const std::string& host,
                          const std::string& authority, const std::string& target,
                          const websocket_options& options) = 0;
  // The read itself, awaited by the caller: no coroutine frame of its own for each message
  // (use_task's awaitable depends on the completion signature only, the same for both streams).
  virtual detail::operation<beast::error_code, std::size_t> read(beast::flat_buffer& buffer) = 0;
  virtual task<void> write(const std::string& message, bool binary) = 0;
  // Starts the close handshake; its outcome no longer matters.
  virtual void close_gracefully() = 0;
  virtual void drop() = 0;
};

template <class Stream>
void configure(websocket::stream<Stream>& ws, const websocket_options& options) {
  // Beast's suggested client timeouts have no idle timeout at all: a peer that stopped
  // answering after the handshake was kept for ever.
  websocket::stream_base::timeout timeout =
      websocket::stream_base::timeout::suggested(beast::role_type::client);
  if (options.keep_alive) {
    timeout.idle_timeout =
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(options.idle_timeout);
    timeout.keep_alive_pings = true;
  }
  ws.set_option(timeout);
  ws.read_message_max(options.max_message);
}

// What both kinds of connection do the same way, over their websocket stream.
template <class Stream>
struct stream_connection : connection, std::enable_shared_from_this<stream_connection<Stream>> {
  template <class... Args>
  explicit stream_connection(Args&&... args) : m_ws(std::forward<Args>(args)...) {}

  detail::operation<beast::error_code, std::size_t> read(beast::flat_buffer& buffer) override {
    return m_ws.async_read(buffer, use_task);
  }
  task<void> write(const std::string& message, bool binary) override {
    m_ws.binary(binary);
    co_await m_ws.async_write(boost::asio::buffer(message), use_task);
  }
  void close_gracefully() override {
    m_ws.async_close(websocket::close_code::normal,
                     [self = this->shared_from_this()](const beast::error_code&) {});
  }
  void drop() override { beast::get_lowest_layer(m_ws).close(); }

  websocket::stream<Stream> m_ws;
};

struct plain_connection final : stream_connection<tcp_stream> {
  explicit plain_connection(boost::asio::io_context& ioc) : stream_connection(ioc.get_executor()) {}

  task<void> open(tcp::resolver::results_type endpoints, const std::string&,
                  const std::string& authority, const std::string& target,
                  const websocket_options& options) override {
    co_await beast::get_lowest_layer(m_ws).async_connect(endpoints, use_task);
    beast::get_lowest_layer(m_ws).expires_never();
    configure(m_ws, options);
    co_await m_ws.async_handshake(authority, target, use_task);
  }
};

struct tls_connection final : stream_connection<beast::ssl_stream<tcp_stream>> {
  tls_connection(boost::asio::io_context& ioc, ssl::context& context)
      : stream_connection(ioc.get_executor(), context) {}

  task<void> open(tcp::resolver::results_type endpoints, const std::string& host,
                  const std::string& authority, const std::string& target,
                  const websocket_options& options) override {
    co_await beast::get_lowest_layer(m_ws).async_connect(endpoints, use_task);
    // Server name indication (SSL_set_tlsext_host_name, spelled out: the macro casts the C
    // way), and the name the certificate must carry.
    if (::SSL_ctrl(m_ws.next_layer().native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME,
                   TLSEXT_NAMETYPE_host_name, const_cast<char*>(host.c_str())) != 1) {
      throw std::runtime_error("cannot set the TLS server name");
    }
    if (options.verify_peer) {
      m_ws.next_layer().set_verify_callback(ssl::host_name_verification(host));
    }
    co_await m_ws.next_layer().async_handshake(ssl::stream_base::client, use_task);
    beast::get_lowest_layer(m_ws).expires_never();
    configure(m_ws, options);
    co_await m_ws.async_handshake(authority, target, use_task);
  }
};

}  // namespace

struct websocket_client::state {
  state(boost::asio::io_context& ioc, asp::loop& l, const std::string& url, websocket_options opts)
      : m_ioc(&ioc),
        m_loop(&l),
        m_url(url),
        m_options(std::move(opts)),
        m_resolver(ioc),
        m_tls_context(ssl::context::tls_client),
        m_link(m_options.reconnect, m_options.on_connect, m_options.on_disconnect) {
    if (m_options.name.empty()) m_options.name = url;
    parse(url);
    if (m_tls) configure_tls();
    m_guard = l.hold();
  }

  ~state() { close(); }

  std::string where() const { return "asp: websocket source '" + m_options.name + "'"; }

  void parse(const std::string& url) {
    std::string rest;
    if (url.rfind("ws://", 0) == 0) {
      rest = url.substr(5);
    } else if (url.rfind("wss://", 0) == 0) {
      rest = url.substr(6);
      m_tls = true;
    } else {
      throw input_error(where() + ": the URL must start with ws:// or wss://: '" + url + "'");
    }
    const std::size_t slash = rest.find('/');
    const std::string authority = rest.substr(0, slash);
    m_target = slash == std::string::npos ? "/" : rest.substr(slash);
    const std::size_t colon = authority.rfind(':');
    m_host = authority.substr(0, colon);
    m_port = colon == std::string::npos ? (m_tls ? "443" : "80") : authority.substr(colon + 1);
    if (m_host.empty() || m_port.empty()) {
      throw input_error(where() + ": no host or port in '" + url + "'");
    }
  }

  void configure_tls() {
    boost::system::error_code ec;
    if (m_options.ca_file.empty()) {
      m_tls_context.set_default_verify_paths(ec);
    } else {
      m_tls_context.load_verify_file(m_options.ca_file, ec);
    }
    if (ec) {
      throw input_error(where() + ": cannot load the certificate authorities" +
                        (m_options.ca_file.empty() ? std::string() : " from " + m_options.ca_file) +
                        ": " + ec.message());
    }
    m_tls_context.set_verify_mode(m_options.verify_peer ? ssl::verify_peer : ssl::verify_none);
  }

  std::shared_ptr<connection> make_connection() {
    if (m_tls) return std::make_shared<tls_connection>(*m_ioc, m_tls_context);
    return std::make_shared<plain_connection>(*m_ioc);
  }

  void close() {
    const bool was_connected = m_link.connected();
    if (!m_link.close()) return;
    m_resolver.cancel();
    if (m_conn && was_connected) {
      m_conn->close_gracefully();
    } else if (m_conn) {
      m_conn->drop();
    }
    m_guard.reset();
  }

  void lose(const std::string& reason) {
    if (m_conn) m_conn->drop();
    m_conn.reset();
    m_link.lose(reason);
  }

  // Connects and shakes hands, retrying as the policy says. False when closed meanwhile.
  task<bool> connect() {
    return m_link.connect(
        [this]() -> task<void> {
          std::shared_ptr<connection> conn = make_connection();
          auto endpoints = co_await m_resolver.async_resolve(m_host, m_port, use_task);
          co_await conn->open(std::move(endpoints), m_host, m_host + ":" + m_port, m_target,
                              m_options);
          if (!m_link.closed()) m_conn = std::move(conn);
        },
        where(), m_host + ":" + m_port, m_url);
  }

  boost::asio::io_context* m_ioc;
  asp::loop* m_loop;
  std::string m_url;
  websocket_options m_options;
  bool m_tls = false;
  std::string m_host;
  std::string m_port;
  std::string m_target;
  tcp::resolver m_resolver;
  ssl::context m_tls_context;
  std::shared_ptr<connection> m_conn;
  beast::flat_buffer m_buffer;
  work_guard m_guard;
  detail::client_link m_link;
  std::size_t m_messages = 0;
  std::uint64_t m_bytes = 0;
};

websocket_client::websocket_client(boost::asio::io_context& ioc, asp::loop& loop,
                                   const std::string& url, websocket_options options)
    : m_state(std::make_shared<state>(ioc, loop, url, std::move(options))) {}

void websocket_client::close() {
  m_state->close();
}

std::size_t websocket_client::connections() const noexcept {
  return m_state->m_link.connections();
}

std::uint64_t websocket_client::bytes() const noexcept {
  return m_state->m_bytes;
}

task<std::optional<event<std::string>>> websocket_client::next() {
  const std::shared_ptr<state> keep = m_state;
  state& s = *keep;
  for (;;) {
    if (s.m_link.closed()) co_return std::nullopt;
    if (!s.m_link.connected() && !co_await s.connect()) co_return std::nullopt;
    const std::shared_ptr<connection> conn = s.m_conn;  // lives while this read does
    s.m_buffer.clear();
    beast::error_code failure;
    try {
      co_await conn->read(s.m_buffer);
    } catch (const boost::system::system_error& e) {
      failure = e.code();
    }
    if (s.m_link.closed() || failure == boost::asio::error::operation_aborted) {
      co_return std::nullopt;
    }
    if (!failure) {
      s.m_bytes += s.m_buffer.size();
      // Resumed by work due at the message's arrival stamp.
      event<std::string> e = detail::stamp(
          beast::buffers_to_string(s.m_buffer.data()), s.m_loop->current_due(), s.m_options.time_of,
          [&] { return s.where() + ", message " + std::to_string(s.m_messages + 1); });
      ++s.m_messages;
      co_return e;
    }
    if (failure == websocket::error::closed) {
      s.lose("closed by the server");
      if (s.m_link.reconnects()) continue;
      s.close();
      co_return std::nullopt;
    }
    if (failure == websocket::error::message_too_big ||
        failure == websocket::error::bad_frame_payload) {
      throw input_error(s.where() + ", message " + std::to_string(s.m_messages + 1) + ": " +
                        failure.message());
    }
    const std::string reason =
        failure == beast::error::timeout
            ? "the server stopped answering: no frame for " +
                  std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                     s.m_options.idle_timeout)
                                     .count()) +
                  " ms, a ping unanswered"
            : failure.message();
    s.lose(reason);
    if (s.m_link.reconnects()) continue;
    throw input_error(s.where() + ": connection lost: " + reason);
  }
}

task<void> websocket_client::send(std::string message, bool binary) {
  const std::shared_ptr<state> keep = m_state;
  state& s = *keep;
  if (s.m_link.closed()) throw std::logic_error(s.where() + ": send after close");
  if (!s.m_link.connected() && !co_await s.connect()) co_return;
  const std::shared_ptr<connection> conn = s.m_conn;
  try {
    co_await conn->write(message, binary);
  } catch (const boost::system::system_error& e) {
    throw input_error(s.where() + ": cannot send: " + e.code().message());
  }
}

}  // namespace asp::asio

// ---------------------------------------------------------------------------------------------
// The broadcast server

namespace asp::asio {

namespace {

struct websocket_client_connection final
    : detail::broadcast_client,
      std::enable_shared_from_this<websocket_client_connection> {
  explicit websocket_client_connection(tcp::socket s) : ws(std::move(s)) {}

  // A text message when the bytes are UTF-8, which a websocket's text must be (a client fails
  // the connection on anything else, RFC 6455 §8.1), a binary message otherwise.
  void write(const std::string& bytes,
             std::function<void(const boost::system::error_code&)> done) override {
    ws.text(asp::valid_utf8(bytes));
    ws.async_write(boost::asio::buffer(bytes), [done = std::move(done)](const beast::error_code& ec,
                                                                        std::size_t) { done(ec); });
  }
  void finish() override {
    ws.async_close(websocket::close_code::normal,
                   [self = shared_from_this()](const beast::error_code&) {});
  }
  void abort() override { beast::get_lowest_layer(ws).close(); }

  websocket::stream<beast::tcp_stream> ws;
  beast::flat_buffer incoming;
};

// Reads and ignores what a client sends, so that its pings are answered and its close seen.
void read_ignored(const std::shared_ptr<detail::broadcast_core>& core,
                  const std::shared_ptr<websocket_client_connection>& c) {
  c->ws.async_read(c->incoming, [core, c](const beast::error_code& ec, std::size_t) {
    if (ec) {
      if (!c->gone && !c->closing) {
        core->drop(c, ec == websocket::error::closed ? "closed by the client" : ec.message());
      }
      return;
    }
    c->incoming.clear();
    read_ignored(core, c);
  });
}

std::shared_ptr<detail::broadcast_listener> listen_websocket(boost::asio::io_context& ioc,
                                                             asp::loop& l,
                                                             const std::string& address,
                                                             std::uint16_t port,
                                                             broadcast_options options) {
  auto listener = std::make_shared<detail::broadcast_listener>(
      ioc, l, address, port, std::move(options), "websocket broadcast server");
  listener->start([core = listener->core()](tcp::socket socket, std::string peer) {
    auto c = std::make_shared<websocket_client_connection>(std::move(socket));
    c->peer = std::move(peer);
    c->ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    c->ws.async_accept([core, c](const beast::error_code& handshake) {
      if (handshake) return;  // not a websocket client: nothing to tell
      core->add(c);
      read_ignored(core, c);
    });
  });
  return listener;
}

}  // namespace

websocket_broadcast_server::websocket_broadcast_server(boost::asio::io_context& ioc,
                                                       asp::loop& loop, const std::string& address,
                                                       std::uint16_t port,
                                                       broadcast_options options)
    : broadcast_server(listen_websocket(ioc, loop, address, port, std::move(options))) {}

task<void> websocket_broadcast_server::publish(std::string message) {
  return publish_frame(std::move(message));
}

}  // namespace asp::asio

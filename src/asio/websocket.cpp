// The only translation unit of the library that includes Boost.Beast.
#include <asp/asio/websocket.hpp>

#include <asp/asio/use_task.hpp>
#include <asp/error.hpp>

#include <asp/sleep.hpp>
#include "source_support.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket.hpp>

#include <algorithm>
#include <exception>
#include <stdexcept>
#include <utility>

namespace asp::asio {

namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;

struct websocket_client::state {
  state(boost::asio::io_context& ioc, asp::loop& l, const std::string& url, websocket_options opts)
      : m_ioc(&ioc), m_loop(&l), m_url(url), m_options(std::move(opts)), m_resolver(ioc) {
    if (m_options.name.empty()) m_options.name = url;
    parse(url);
    m_guard = l.hold();
  }

  ~state() { close(); }

  std::string where() const { return "asp: websocket source '" + m_options.name + "'"; }

  void parse(const std::string& url) {
    constexpr std::string_view scheme = "ws://";
    if (url.rfind("wss://", 0) == 0) {
      throw input_error(where() + ": wss:// (TLS) is not supported by this build; use ws://");
    }
    if (url.rfind(scheme, 0) != 0) {
      throw input_error(where() + ": the URL must start with ws://: '" + url + "'");
    }
    const std::string rest = url.substr(scheme.size());
    const std::size_t slash = rest.find('/');
    const std::string authority = rest.substr(0, slash);
    m_target = slash == std::string::npos ? "/" : rest.substr(slash);
    const std::size_t colon = authority.rfind(':');
    m_host = authority.substr(0, colon);
    m_port = colon == std::string::npos ? "80" : authority.substr(colon + 1);
    if (m_host.empty() || m_port.empty()) {
      throw input_error(where() + ": no host or port in '" + url + "'");
    }
  }

  void close() {
    if (m_closed) return;
    m_closed = true;
    m_resolver.cancel();
    if (m_ws && m_connected) {
      // The close handshake, as far as it gets; its outcome no longer matters.
      m_ws->async_close(websocket::close_code::normal, [ws = m_ws](const beast::error_code&) {});
    } else if (m_ws) {
      beast::get_lowest_layer(*m_ws).close();
    }
    m_guard.reset();
  }

  void lose(const std::string& reason) {
    m_connected = false;
    if (m_ws) beast::get_lowest_layer(*m_ws).close();
    m_ws.reset();
    if (m_options.on_disconnect) m_options.on_disconnect(reason);
  }

  // Connects and shakes hands, retrying as the policy says. False when closed meanwhile.
  task<bool> connect() {
    duration delay = m_options.reconnect.initial_delay;
    std::size_t failures = 0;
    for (;;) {
      auto ws = std::make_shared<websocket::stream<beast::tcp_stream>>(*m_ioc);
      beast::error_code failure;
      try {
        auto endpoints = co_await m_resolver.async_resolve(m_host, m_port, use_task);
        co_await beast::get_lowest_layer(*ws).async_connect(endpoints, use_task);
        beast::get_lowest_layer(*ws).expires_never();
        if (m_options.keep_alive) {
          ws->set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
        }
        ws->read_message_max(m_options.max_message);
        co_await ws->async_handshake(m_host + ":" + m_port, m_target, use_task);
      } catch (const boost::system::system_error& e) {
        failure = e.code();
      }
      if (m_closed) co_return false;
      if (!failure) {
        m_ws = std::move(ws);
        m_connected = true;
        ++m_connections;
        if (m_options.on_connect) m_options.on_connect(m_url);
        co_return true;
      }
      co_await detail::before_retry(m_options.reconnect, ++failures, delay, where(),
                                    m_host + ":" + m_port, failure.message());
    }
  }

  boost::asio::io_context* m_ioc;
  asp::loop* m_loop;
  std::string m_url;
  websocket_options m_options;
  std::string m_host;
  std::string m_port;
  std::string m_target;
  boost::asio::ip::tcp::resolver m_resolver;
  std::shared_ptr<websocket::stream<beast::tcp_stream>> m_ws;
  beast::flat_buffer m_buffer;
  work_guard m_guard;
  bool m_connected = false;
  bool m_closed = false;
  std::size_t m_connections = 0;
  std::size_t m_messages = 0;
};

websocket_client::websocket_client(boost::asio::io_context& ioc, asp::loop& loop,
                                   const std::string& url, websocket_options options)
    : m_state(std::make_shared<state>(ioc, loop, url, std::move(options))) {}

void websocket_client::close() {
  m_state->close();
}

std::size_t websocket_client::connections() const noexcept {
  return m_state->m_connections;
}

task<std::optional<event<std::string>>> websocket_client::next() {
  const std::shared_ptr<state> keep = m_state;
  state& s = *keep;
  for (;;) {
    if (s.m_closed) co_return std::nullopt;
    if (!s.m_connected && !co_await s.connect()) co_return std::nullopt;
    const auto ws = s.m_ws;  // the stream lives while this read does
    s.m_buffer.clear();
    beast::error_code failure;
    try {
      co_await ws->async_read(s.m_buffer, use_task);
    } catch (const boost::system::system_error& e) {
      failure = e.code();
    }
    if (s.m_closed || failure == boost::asio::error::operation_aborted) co_return std::nullopt;
    if (!failure) {
      // Resumed by work due at the message's arrival stamp.
      event<std::string> e = detail::stamp(
          beast::buffers_to_string(s.m_buffer.data()),
          asp::detail::loop_access::current_due(*s.m_loop), s.m_options.time_of,
          [&] { return s.where() + ", message " + std::to_string(s.m_messages + 1); });
      ++s.m_messages;
      co_return e;
    }
    if (failure == websocket::error::closed) {
      s.lose("closed by the server");
      if (s.m_options.reconnect.enabled) continue;
      s.close();
      co_return std::nullopt;
    }
    if (failure == websocket::error::message_too_big ||
        failure == websocket::error::bad_frame_payload) {
      throw input_error(s.where() + ", message " + std::to_string(s.m_messages + 1) + ": " +
                        failure.message());
    }
    s.lose(failure.message());
    if (s.m_options.reconnect.enabled) continue;
    throw input_error(s.where() + ": connection lost: " + failure.message());
  }
}

task<void> websocket_client::send(std::string message, bool binary) {
  const std::shared_ptr<state> keep = m_state;
  state& s = *keep;
  if (s.m_closed) throw std::logic_error(s.where() + ": send after close");
  if (!s.m_connected && !co_await s.connect()) co_return;
  const auto ws = s.m_ws;
  ws->binary(binary);
  try {
    co_await ws->async_write(boost::asio::buffer(message), use_task);
  } catch (const boost::system::system_error& e) {
    throw input_error(s.where() + ": cannot send: " + e.code().message());
  }
}

}  // namespace asp::asio

#include <asp/asio/tcp.hpp>

#include <asp/asio/use_task.hpp>
#include <asp/error.hpp>
#include <asp/sleep.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <exception>
#include <stdexcept>
#include <utility>

#include "source_support.hpp"

namespace asp::asio {

struct tcp_client::state {
  state(boost::asio::io_context& ioc, asp::loop& l, std::string host, std::uint16_t port,
        tcp_options opts)
      : m_loop(&l),
        m_host(std::move(host)),
        m_port(port),
        m_options(std::move(opts)),
        m_resolver(ioc),
        m_socket(ioc),
        m_framer(m_options.frames, m_options.max_frame),
        m_guard(l.hold()),
        m_link(m_options.reconnect, m_options.on_connect, m_options.on_disconnect) {
    if (m_options.name.empty()) m_options.name = peer();
  }

  ~state() { close(); }

  std::string peer() const { return m_host + ":" + std::to_string(m_port); }
  std::string where() const { return "asp: tcp source '" + m_options.name + "'"; }

  // Reading ends at once. Frames being sent are written first: the socket then only stops
  // receiving, and the last send to finish closes it.
  void close() {
    if (!m_link.close()) return;
    if (m_ended.empty()) m_ended = "closed";
    m_resolver.cancel();
    boost::system::error_code ignored;
    if (m_sending > 0) {
      m_socket.shutdown(boost::asio::ip::tcp::socket::shutdown_receive, ignored);
    } else {
      m_socket.close(ignored);
    }
    m_guard.reset();
  }

  void sent() {
    if (--m_sending == 0 && m_link.closed()) {
      boost::system::error_code ignored;
      m_socket.close(ignored);
    }
  }

  void lose(const std::string& reason) {
    boost::system::error_code ignored;
    m_socket.close(ignored);
    m_framer.clear();
    m_link.lose(reason);
  }

  // Connects, retrying as the policy says. False when the source was closed meanwhile.
  task<bool> connect() {
    return m_link.connect(
        [this]() -> task<void> {
          auto endpoints =
              co_await m_resolver.async_resolve(m_host, std::to_string(m_port), use_task);
          co_await boost::asio::async_connect(m_socket, endpoints, use_task);
        },
        where(), peer(), peer());
  }

  event<std::string> make_event(std::string frame) {
    event<std::string> e = detail::stamp(std::move(frame), m_arrival, m_options.time_of, [&] {
      return where() + ", frame " + std::to_string(m_frames + 1);
    });
    ++m_frames;
    return e;
  }

  asp::loop* m_loop;
  std::string m_host;
  std::uint16_t m_port;
  tcp_options m_options;
  boost::asio::ip::tcp::resolver m_resolver;
  boost::asio::ip::tcp::socket m_socket;
  detail::framer m_framer;
  work_guard m_guard;
  detail::client_link m_link;
  std::size_t m_sending = 0;
  std::uint64_t m_bytes = 0;
  std::size_t m_frames = 0;
  std::string m_ended;
  bool m_pending_end = false;  // a last line was delivered; the peer closed after it
  time_point m_arrival{};
  char m_chunk[65536];
};

tcp_client::tcp_client(boost::asio::io_context& ioc, asp::loop& loop, std::string host,
                       std::uint16_t port, tcp_options options)
    : m_state(std::make_shared<state>(ioc, loop, std::move(host), port, std::move(options))) {}

void tcp_client::close() {
  m_state->close();
}

std::size_t tcp_client::connections() const noexcept {
  return m_state->m_link.connections();
}

std::uint64_t tcp_client::bytes() const noexcept {
  return m_state->m_bytes;
}

const std::string& tcp_client::ended() const noexcept {
  return m_state->m_ended;
}

std::size_t tcp_client::partial() const noexcept {
  return m_state->m_framer.pending();
}

task<std::optional<event<std::string>>> tcp_client::next() {
  // Holds the state: a copy of the client may be destroyed while this waits.
  const std::shared_ptr<state> keep = m_state;
  state& s = *keep;
  for (;;) {
    if (s.m_link.closed()) co_return std::nullopt;
    if (s.m_pending_end) {  // the last line was delivered: the peer's close comes now
      s.m_pending_end = false;
      s.lose("closed by the peer");
      if (!s.m_link.reconnects()) {
        s.close();
        co_return std::nullopt;
      }
    }
    if (!s.m_link.connected() && !co_await s.connect()) co_return std::nullopt;
    if (std::optional<std::string> frame = s.m_framer.pop([&] { return s.where(); })) {
      co_return s.make_event(std::move(*frame));
    }
    boost::system::error_code failure;
    std::size_t got = 0;
    try {
      got = co_await s.m_socket.async_read_some(boost::asio::buffer(s.m_chunk), use_task);
      // Resumed by work due at the bytes' arrival stamp.
      s.m_arrival = s.m_loop->current_due();
    } catch (const boost::system::system_error& e) {
      failure = e.code();
    }
    if (s.m_link.closed() || failure == boost::asio::error::operation_aborted) {
      co_return std::nullopt;
    }
    if (!failure) {
      s.m_bytes += got;
      s.m_framer.append(s.m_chunk, got);
      continue;
    }
    const bool orderly = failure == boost::asio::error::eof;
    std::string reason =
        orderly ? "closed by the peer" : "reset by the peer (" + failure.message() + ")";
    const std::size_t partial = s.m_framer.pending();
    // The peer ended its output: a last line without a newline is a line.
    if (orderly && partial > 0 && s.m_options.frames == framing::lines) {
      std::string line = s.m_framer.take_last_line([&] { return s.where(); });
      if (!s.m_link.reconnects()) {
        s.m_ended = reason + ", after a last line without a newline (" + std::to_string(partial) +
                    " bytes), kept as a line";
      }
      s.m_pending_end = true;
      co_return s.make_event(std::move(line));
    }
    if (partial > 0) {
      reason += " in the middle of a frame (" + std::to_string(partial) + " bytes received)";
    }
    s.lose(reason);
    if (s.m_link.reconnects()) continue;
    if (partial > 0) throw input_error(s.where() + ": connection " + reason);
    s.m_ended = reason;
    s.close();
    co_return std::nullopt;
  }
}

task<void> tcp_client::send(std::string frame) {
  const std::shared_ptr<state> keep = m_state;
  state& s = *keep;
  if (s.m_link.closed()) throw std::logic_error(s.where() + ": send after close");
  if (!s.m_link.connected() && !co_await s.connect()) co_return;
  const std::string bytes = detail::encode_frame(s.m_options.frames, std::move(frame));
  ++s.m_sending;
  boost::system::error_code failure;
  try {
    co_await boost::asio::async_write(s.m_socket, boost::asio::buffer(bytes), use_task);
  } catch (const boost::system::system_error& e) {
    failure = e.code();
  }
  s.sent();
  if (failure) throw input_error(s.where() + ": cannot send: " + failure.message());
}

}  // namespace asp::asio

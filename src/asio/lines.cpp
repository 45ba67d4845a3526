#include <asp/asio/lines.hpp>

#include <asp/asio/use_task.hpp>
#include <asp/error.hpp>

#include "source_support.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <system_error>
#include <utility>

namespace asp::asio {

struct lines::state {
  state(boost::asio::io_context& ioc, asp::loop& l, int fd, line_options opts)
      : m_loop(&l),
        m_options(std::move(opts)),
        m_fd(::dup(fd)),
        m_desc(ioc),
        m_guard(l.hold()),
        m_framer(framing::lines, m_options.max_line) {
    if (m_fd < 0) {
      throw std::system_error(
          errno, std::generic_category(),
          "asp: line source '" + m_options.name + "': cannot use descriptor " + std::to_string(fd));
    }
    struct ::stat info {};
    m_regular = ::fstat(m_fd, &info) == 0 && S_ISREG(info.st_mode);
    if (m_regular) return;
    m_desc.assign(m_fd);
    m_fd = -1;  // owned by the descriptor now
  }

  ~state() { close(); }

  std::string where() const {
    return "asp: line source '" + m_options.name + "', line " + std::to_string(m_count + 1);
  }

  void close() {
    if (m_closed) return;
    m_closed = true;
    if (m_ended.empty()) m_ended = "closed";
    boost::system::error_code ignored;
    m_desc.close(ignored);
    if (m_fd >= 0) {
      ::close(m_fd);
      m_fd = -1;
    }
    m_guard.reset();
  }

  // The event for one complete line, without its line ending.
  event<std::string> make_event(std::string line) {
    event<std::string> e =
        detail::stamp(std::move(line), m_arrival, m_options.time_of, [&] { return where(); });
    ++m_count;
    return e;
  }

  asp::loop* m_loop;
  line_options m_options;
  int m_fd;
  boost::asio::posix::stream_descriptor m_desc;
  work_guard m_guard;
  bool m_regular = false;
  bool m_eof = false;
  bool m_closed = false;
  std::size_t m_count = 0;
  std::uint64_t m_bytes = 0;
  std::string m_ended;
  detail::framer m_framer;
  time_point m_arrival{};
  char m_chunk[65536];
};

lines::lines(boost::asio::io_context& ioc, asp::loop& loop, int fd, line_options options)
    : m_state(std::make_shared<state>(ioc, loop, fd, std::move(options))) {}

void lines::close() {
  m_state->close();
}

std::size_t lines::count() const noexcept {
  return m_state->m_count;
}

const std::string& lines::ended() const noexcept {
  return m_state->m_ended;
}

std::size_t lines::partial() const noexcept {
  return m_state->m_framer.pending();
}

std::uint64_t lines::bytes() const noexcept {
  return m_state->m_bytes;
}

task<std::optional<event<std::string>>> lines::next() {
  state& s = *m_state;
  for (;;) {
    if (s.m_closed) co_return std::nullopt;
    if (std::optional<std::string> line = s.m_framer.pop([&] { return s.where(); })) {
      co_return s.make_event(std::move(*line));
    }
    if (s.m_eof) {
      const std::size_t partial = s.m_framer.pending();
      if (partial == 0) {
        if (s.m_ended.empty()) s.m_ended = "end of input";
        s.close();
        co_return std::nullopt;
      }
      std::string line = s.m_framer.take_last_line([&] { return s.where(); });
      s.m_ended = "end of input, after a last line without a newline (" + std::to_string(partial) +
                  " bytes), kept as a line";
      co_return s.make_event(std::move(line));
    }
    std::size_t got = 0;
    if (s.m_regular) {
      const ssize_t n = ::read(s.m_fd, s.m_chunk, sizeof s.m_chunk);
      if (n < 0) {
        throw input_error(s.where() + ": cannot read: " + std::strerror(errno));
      }
      got = static_cast<std::size_t>(n);
      s.m_arrival = s.m_loop->clock().now();
    } else {
      boost::system::error_code failure;
      try {
        got = co_await s.m_desc.async_read_some(boost::asio::buffer(s.m_chunk), use_task);
        // Resumed by work due at the bytes' arrival stamp.
        s.m_arrival = s.m_loop->current_due();
      } catch (const boost::system::system_error& e) {
        failure = e.code();
      }
      if (failure == boost::asio::error::operation_aborted || s.m_closed) co_return std::nullopt;
      if (failure && failure != boost::asio::error::eof) {
        throw input_error(s.where() + ": cannot read: " + failure.message());
      }
    }
    if (got == 0) {
      s.m_eof = true;
    } else {
      s.m_bytes += got;
      s.m_framer.append(s.m_chunk, got);
    }
  }
}

}  // namespace asp::asio

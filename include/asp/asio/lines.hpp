#pragma once

#include <asp/event.hpp>
#include <asp/loop.hpp>
#include <asp/task.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace asp::asio {

/// Optional parts of a line source.
struct line_options {
  /// Appears in errors.
  std::string name = "lines";
  /// A line longer than this many bytes (without its newline) fails the source.
  std::size_t max_line = std::size_t{1} << 20;
  /// The event's own time, from the line (e.g. a timestamp field); without it, each line is
  /// stamped with its arrival: the loop's real clock when its bytes were read. A throw is a
  /// bad line: the source fails with the source's name and the line's number.
  std::function<time_point(std::string_view line)> time_of{};
};

/// Lines from a file descriptor — stdin by default — as a live source of
/// `asp::event<std::string>`, so `tail -f file | program` feeds a stream. Lines end with `\n`
/// (a `\r` before it is dropped); a last line without one is delivered at the end of input,
/// which ends the source, and `ended()` says so; a line begun when the source is closed (a
/// stop) is not delivered, and `partial()` says its size (as `tcp_client` does). A pipe, terminal
/// or socket is read through the io_context; a regular file is read directly. The source duplicates
/// the descriptor, holds the run open while it is open, and is closable: `close()` ends it, and a
/// pending `next()` sees the end. Copies share one source (keep one to close the source a stream
/// reads); the last copy closes it.
///
/// Errors (asp::input_error) name the source and the line number: a line over `max_line`, a
/// failed read, a line `time_of` rejects.
class lines {
 public:
  /// Reads `fd` (not taken over: the source reads a duplicate) on `loop`, through `ioc`, which
  /// must run on the loop's thread (asp::asio::io_context_backend or asp::asio::host).
  lines(boost::asio::io_context& ioc, asp::loop& loop, int fd = 0, line_options options = {});

  /// Awaitable: the next line, or std::nullopt at the end of input or once closed.
  task<std::optional<event<std::string>>> next();

  /// Ends the source: a pending `next()` returns std::nullopt. Idempotent.
  void close();

  /// Lines delivered so far.
  std::size_t count() const noexcept;

  /// How the input ended, once it has: "end of input", "end of input, after a last line without
  /// a newline (N bytes), kept as a line", or "closed" (by `close()`); empty while it goes on.
  const std::string& ended() const noexcept;

  /// Bytes of a line begun and not ended (after a close: what it left undelivered).
  std::size_t partial() const noexcept;

  /// Bytes read so far.
  std::uint64_t bytes() const noexcept;

 private:
  struct state;
  std::shared_ptr<state> m_state;
};

}  // namespace asp::asio

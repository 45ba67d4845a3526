#pragma once

#include <asp/backend.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <atomic>
#include <optional>

namespace asp::asio {

/// Asio inside ASP: a waiting backend that runs an `io_context` while the loop waits. Give it
/// to a loop (`asp::loop loop(clock, backend)`) and `loop.run()` owns the thread; whenever
/// nothing is due, the io_context's handlers run — socket completions, Asio timers, a Beast
/// server — one at a time, each followed by a look at the loop's queue, so work they hand to
/// ASP (`loop.post`, a `use_task` completion) takes its place at once. Replay never goes
/// through the io_context: the loop waits only when nothing is due.
///
/// `wake()` writes an eventfd that the io_context watches: async-signal-safe. Both the
/// io_context and the backend must be used on the loop's thread.
class io_context_backend final : public asp::backend {
 public:
  /// Throws std::system_error when the eventfd cannot be created.
  explicit io_context_backend(boost::asio::io_context& ioc);
  ~io_context_backend() override;
  io_context_backend(const io_context_backend&) = delete;
  io_context_backend& operator=(const io_context_backend&) = delete;

  /// Runs io_context handlers until one has run, a wake-up comes, or `timeout` passes;
  /// returns whether either happened (a handler may have handed the loop work).
  bool wait(std::optional<duration> timeout) override;
  void wake() noexcept override;
  int native_handle() const noexcept override { return m_fd; }

  boost::asio::io_context& context() const noexcept { return *m_ioc; }

  /// After a run: runs the io_context until the handlers still pending there have completed —
  /// the frames that closed sinks are still writing, close handshakes — without the backend's
  /// own wait for wake-ups, which would keep it running for ever. Whatever is still open (a
  /// source not closed, a server still accepting) keeps it running too: close them first.
  /// Completions meant for the loop wait for its next run.
  void finish();

 private:
  void arm();
  bool consume(bool readable = false) noexcept;

  boost::asio::io_context* m_ioc;
  int m_fd;
  boost::asio::posix::stream_descriptor m_watch;
  bool m_armed = false;
  // Set by wake() before it writes the eventfd (as eventfd_backend's).
  std::atomic<bool> m_pending{false};
};

}  // namespace asp::asio

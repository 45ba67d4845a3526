#pragma once

#include <asp/time.hpp>

#include <atomic>
#include <optional>

namespace asp {

/// How a loop's thread blocks while nothing is due, and how other threads wake it (Seastar's
/// `reactor_backend`, libuv's backend descriptor). Waiting is a seam of its own, apart from the
/// clock: the clock says what time it is and turns a deadline into a wait on the backend; the
/// backend blocks.
///
/// The default, `eventfd_backend`, blocks in `ppoll` on an eventfd. A host loop that drives ASP
/// with `loop::poll` watches `native_handle()` instead; the Asio component adds a backend that
/// waits inside an `io_context`.
class backend {
 public:
  virtual ~backend() = default;

  /// Blocks for at most `timeout` (std::nullopt: without limit) or until `wake()`; consumes a
  /// pending wake-up and returns whether there was one. A zero timeout only looks.
  virtual bool wait(std::optional<duration> timeout) = 0;

  /// Makes the current or the next `wait` return. Callable from any thread and from a signal
  /// handler.
  virtual void wake() noexcept = 0;

  /// A file descriptor that becomes readable when `wake()` is called, for a host loop to watch
  /// (libuv's `uv_backend_fd`); -1 when the backend has none.
  virtual int native_handle() const noexcept { return -1; }
};

/// The default backend: an eventfd that `wake()` writes to, waited on with `ppoll` to the
/// nanosecond. Its descriptor is what a host loop watches.
class eventfd_backend final : public backend {
 public:
  /// Throws std::system_error when the eventfd cannot be created.
  eventfd_backend();
  ~eventfd_backend() override;
  eventfd_backend(const eventfd_backend&) = delete;
  eventfd_backend& operator=(const eventfd_backend&) = delete;

  bool wait(std::optional<duration> timeout) override;
  void wake() noexcept override;
  int native_handle() const noexcept override { return m_fd; }

 private:
  int m_fd;
  // Set by wake() before it writes the eventfd: a wait that must not block (a manual clock
  // looking for input before it jumps, at every event of a replay) asks the eventfd only when
  // a wake-up may be pending, not with a system call each time.
  std::atomic<bool> m_pending{false};
};

}  // namespace asp

#pragma once

#include <asp/clock.hpp>

namespace asp::detail {

/// The loop's wake-up line: an eventfd that other threads (and signal handlers) write to, and
/// that the loop's thread blocks on with ppoll, to the nanosecond, when it has nothing due.
class wakeup final : public waiter {
 public:
  wakeup();
  ~wakeup();
  wakeup(const wakeup&) = delete;
  wakeup& operator=(const wakeup&) = delete;

  /// Makes the next or current wait() return. Async-signal-safe, callable from any thread.
  void notify() noexcept;

  /// Blocks for at most `timeout` (nullopt: without limit) until notified; consumes the
  /// notification and returns whether there was one.
  bool wait(std::optional<duration> timeout) override;

 private:
  int m_fd;
};

}  // namespace asp::detail

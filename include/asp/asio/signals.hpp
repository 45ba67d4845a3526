#pragma once

#include <asp/loop.hpp>

#include <csignal>
#include <initializer_list>
#include <vector>

namespace asp::asio {

/// Graceful stop on SIGINT and SIGTERM (or the signals given). The first signal stops `loop`:
/// the run returns before its next piece of work — no callback is cut in half, and pending
/// work stays for a later run — and `received()` says which signal came, so the program can
/// close its sources and flush its sinks. A second signal exits the process at once, with
/// status 128 + the signal number.
///
/// The handlers only do what is async-signal-safe (`loop::stop` is). One at a time per
/// process; the previous handlers come back when it is destroyed.
class stop_on_signals {
 public:
  /// Installs the handlers. Throws std::logic_error when another stop_on_signals is active.
  explicit stop_on_signals(asp::loop& loop, std::initializer_list<int> signals = {SIGINT, SIGTERM});
  ~stop_on_signals();
  stop_on_signals(const stop_on_signals&) = delete;
  stop_on_signals& operator=(const stop_on_signals&) = delete;

  /// The first signal received, or 0.
  int received() const noexcept;

 private:
  std::vector<int> m_signals;
  std::vector<struct sigaction> m_previous;
};

}  // namespace asp::asio

#pragma once

#include <asp/loop.hpp>

#include <csignal>
#include <functional>
#include <initializer_list>
#include <vector>

namespace asp::asio {

/// Graceful stop on SIGINT and SIGTERM (or the signals given). The first signal stops `loop`:
/// the run returns before its next piece of work — no callback is cut in half, and pending
/// work stays for a later run. Just before it returns, on the loop's thread, the actions
/// given to `on_stop` run in order: close the sources there (their connections end) and the
/// sinks (what they queued is still written, while the io_context runs on; with an
/// `io_context_backend`, its `finish()` after the run writes it). `received()` says
/// which signal came. A second signal exits the process at once, with status 128 + the
/// signal number.
///
///     asp::asio::stop_on_signals signals(loop);
///     signals.on_stop([&] { feed.close(); answers.close(); });
///     loop.run({}, asp::process_stream(on_quote, history, feed));
///     backend.finish();  // the answers' last frames, and the close handshakes
///
/// The handlers only do what is async-signal-safe (`loop::stop` is); the actions run from
/// the loop (its `set_on_stop` hook, which this takes over). One at a time per process; the
/// previous handlers come back when it is destroyed.
class stop_on_signals {
 public:
  /// Installs the handlers. Throws std::logic_error when another stop_on_signals is active.
  explicit stop_on_signals(asp::loop& loop, std::initializer_list<int> signals = {SIGINT, SIGTERM});
  ~stop_on_signals();
  stop_on_signals(const stop_on_signals&) = delete;
  stop_on_signals& operator=(const stop_on_signals&) = delete;

  /// The first signal received, or 0.
  int received() const noexcept;

  /// Adds an action for the first signal, run once on the loop's thread as the stopped run
  /// returns. An action that throws fails that run (asp::run_error, "on_stop").
  void on_stop(std::function<void()> action);

 private:
  asp::loop* m_loop;
  std::vector<std::function<void()>> m_actions;
  bool m_acted = false;
  std::vector<int> m_signals;
  std::vector<struct sigaction> m_previous;
};

}  // namespace asp::asio

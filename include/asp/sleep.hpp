#pragma once

#include <asp/detail/loop_access.hpp>
#include <asp/loop.hpp>

#include <coroutine>

namespace asp {

/// Awaitable returned by `sleep` and `sleep_until`.
///
/// `co_await` always suspends and schedules the coroutine's resumption at the due time, so a
/// sleep takes its place in (due time, sequence) order even when the time has already passed:
/// `sleep(0s)` lets all work already due now run first. Under the virtual clock a sleep into
/// the past or up to the real clock resumes at once (fast-forward), with `now()` equal to the
/// due time; a sleep beyond the real clock waits for it. Destroying the suspended coroutine
/// cancels the wake-up.
class sleep_awaiter {
 public:
  sleep_awaiter(loop& l, time_point due) noexcept : m_loop(&l), m_due(due) {}
  sleep_awaiter(const sleep_awaiter&) = delete;
  sleep_awaiter& operator=(const sleep_awaiter&) = delete;
  ~sleep_awaiter() { m_wakeup.cancel(); }

  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) {
    m_wakeup = detail::loop_access::schedule_resume(*m_loop, h, m_due);
  }
  void await_resume() const noexcept {}

 private:
  loop* m_loop;
  time_point m_due;
  timer_handle m_wakeup;
};

/// Suspends the calling coroutine until virtual time `when` (see sleep_awaiter).
inline sleep_awaiter sleep_until(time_point when) {
  return {current_loop(), when};
}

/// Suspends the calling coroutine until `now() + delay` (see sleep_awaiter).
inline sleep_awaiter sleep(duration delay) {
  loop& l = current_loop();
  return {l, saturating_add(l.now(), delay)};
}

namespace detail {

/// Awaitable: goes on at once when work due at `due` would run next anyway (moving the clock
/// to it), otherwise suspends until the loop runs it in its turn. What a stream awaits between
/// events; destroying the suspended coroutine cancels the wake-up. Only for frames that their
/// loop destroys before it dies (a stream's), which is what lets it skip the handle count.
class next_due {
 public:
  next_due(loop& l, time_point due) noexcept : m_loop(&l), m_due(due) {}
  next_due(const next_due&) = delete;
  next_due& operator=(const next_due&) = delete;
  ~next_due() {
    if (m_wakeup.node != nullptr) loop_access::cancel(*m_loop, m_wakeup);
  }

  // Always inlined into the stream's frame: on the replay path for every event, and the
  // compiler's own choice changed with the size of unrelated headers (BENCHMARKS.md).
  [[gnu::always_inline]] bool await_ready() noexcept {
    return loop_access::run_now_if_next(*m_loop, m_due);
  }
  [[gnu::always_inline]] void await_suspend(std::coroutine_handle<> h) {
    m_wakeup = loop_access::resume_in_turn(*m_loop, h, m_due);
  }
  void await_resume() const noexcept {}

 private:
  loop* m_loop;
  time_point m_due;
  work_ticket m_wakeup;
};

}  // namespace detail

}  // namespace asp

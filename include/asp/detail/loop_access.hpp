#pragma once

#include <asp/join_handle.hpp>
#include <asp/loop.hpp>
#include <asp/task.hpp>
#include <asp/time.hpp>
#include <asp/timer_handle.hpp>

#include <coroutine>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace asp {

namespace detail {

/// How the library's own awaiters, sources and handles reach a loop's internals: the one door
/// through which they pass, so that `asp::loop` shows users nothing they could break the clock
/// contract with.
struct loop_access {
  /// Schedules the resumption of `h` at `due`.
  static timer_handle schedule_resume(loop& l, std::coroutine_handle<> h, time_point due) {
    return l.schedule_resume(h, due);
  }

  /// As schedule_resume, for a frame that the loop itself destroys before it dies (a stream's):
  /// no handle to count, a ticket to cancel with.
  static work_ticket resume_at(loop& l, std::coroutine_handle<> h, time_point due) {
    return l.resume_at(h, due);
  }
  static work_ticket resume_in_turn(loop& l, std::coroutine_handle<> h, time_point due) {
    return l.resume_in_turn(h, due);
  }
  static void cancel(loop& l, const work_ticket& ticket) noexcept {
    l.m_queue.cancel(ticket.node, ticket.seq, l);
  }

  /// What other threads reach of the loop.
  static const std::shared_ptr<loop_remote>& remote(const loop& l) noexcept { return l.m_remote; }

  /// Changes with every piece of work the loop runs: a source compares it before and after it
  /// waits to tell whether it was resumed by work of its own.
  static std::uint64_t slot(const loop& l) noexcept { return l.m_stats.runs; }

  /// A name for the next stream that has none: "#n", counting the loop's streams from 1.
  static std::string next_stream_name(loop& l) { return "#" + std::to_string(++l.m_streams); }

  /// The stream's step to its next event: when work due at `due` would run next anyway, it
  /// moves the clock and goes on at once (the fast path: no queue); otherwise it returns false
  /// and the caller waits in the queue.
  static bool run_now_if_next(loop& l, time_point due) noexcept {
    if (!l.may_run_next(due)) return false;
    l.advance_to(due);
    return true;
  }

  template <class T>
  static join_handle<T> spawn(loop& l, task<T> body, std::string name,
                              std::optional<time_point> at) {
    return l.spawn_task(std::move(body), std::move(name), at);
  }
};

}  // namespace detail

}  // namespace asp

#pragma once

#include <asp/detail/remote.hpp>
#include <asp/task.hpp>
#include <asp/timer_handle.hpp>

#include <coroutine>
#include <exception>
#include <optional>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <utility>

namespace asp::detail {

/// What a spawned task shares with its join_handle and with a joiner while it waits; freed by
/// the last of them (release_spawned). The loop keeps the unfinished ones in a list, to cancel
/// them when it is destroyed or a run fails.
struct spawn_state {
  explicit spawn_state(loop_anchor* anchor) noexcept : m_anchor(retain(anchor)) {}
  spawn_state(const spawn_state&) = delete;
  spawn_state& operator=(const spawn_state&) = delete;
  virtual ~spawn_state() { release(m_anchor); }

  /// The loop, or nullptr once it is destroyed (everything it ran is then finished).
  loop* owner() const noexcept { return m_anchor->m_loop; }

  /// "task 'name'", or the callback that returned it, for error messages.
  std::string describe() const;

  loop_anchor* m_anchor;
  int m_refs = 2;  // the root coroutine and the join_handle
  bool m_done = false;
  bool m_detached = false;
  bool m_observed = false;
  bool m_fails_run = false;  // the run's main task: its failure is the run's failure
  std::string m_name;
  const std::type_info* m_type = nullptr;
  std::exception_ptr m_error;
  std::coroutine_handle<> m_root;
  std::coroutine_handle<> m_joiner;
  timer_handle m_start;
  timer_handle m_joiner_resume;
  spawn_state* m_prev = nullptr;  // in the loop's list of unfinished tasks
  spawn_state* m_next = nullptr;
};

template <class T>
struct spawn_state_of final : spawn_state {
  using spawn_state::spawn_state;
  std::optional<T> m_value;
};

template <>
struct spawn_state_of<void> final : spawn_state {
  using spawn_state::spawn_state;
};

/// Drops one reference to `state`, freeing it with the last.
inline void release_spawned(spawn_state& state) noexcept {
  if (--state.m_refs == 0) delete &state;
}

/// A spawned task's life after its start, on its loop's thread (src/loop.cpp). Its body ended,
/// with a value, an exception or cancelled: wakes the joiner, or fails the run for a detached
/// task's error; drops the root coroutine's reference.
void finish_spawned(spawn_state& state) noexcept;
/// Stops an unfinished task: destroys its frames and completes it with asp::cancelled. Returns
/// false, doing nothing, when it has finished or its loop is gone.
bool cancel_spawned(spawn_state& state);
/// Its handle let it go: its failure, past or future, fails the run. Drops the handle's
/// reference.
void detach_spawned(spawn_state& state) noexcept;

/// The outcome of a finished task: its value, or its exception rethrown.
template <class T>
T take_result(spawn_state_of<T>& state) {
  state.m_observed = true;
  if (state.m_error) std::rethrow_exception(state.m_error);
  if constexpr (!std::is_void_v<T>) return std::move(*state.m_value);
}

/// The coroutine that runs a spawned task on its own: it starts from the loop's queue (or in
/// the slot of the callback that returned it), records the outcome, and destroys itself at its
/// end.
struct root_coroutine {
  struct promise_type {
    root_coroutine get_return_object() noexcept {
      return {std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_always initial_suspend() const noexcept { return {}; }
    std::suspend_never final_suspend() const noexcept { return {}; }
    void return_void() const noexcept {}
    void unhandled_exception() const noexcept { std::terminate(); }
  };
  std::coroutine_handle<promise_type> m_frame;
};

/// The root coroutine of a spawned task: runs `body`, records its outcome, finishes.
template <class T>
root_coroutine run_spawned(spawn_state_of<T>& state, task<T> body) {
  try {
    if constexpr (std::is_void_v<T>) {
      co_await std::move(body);
    } else {
      state.m_value.emplace(co_await std::move(body));
    }
  } catch (...) {
    state.m_error = std::current_exception();
  }
  finish_spawned(state);
}

}  // namespace asp::detail

#pragma once

#include <asp/detail/spawn_state.hpp>
#include <asp/error.hpp>
#include <asp/loop.hpp>
#include <asp/task.hpp>

#include <coroutine>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

namespace asp {

/// A spawned task: join it with `co_await`, look at its outcome, or cancel it. Dropping the
/// handle detaches the task: it runs on, and if it fails the run fails with its error.
/// Use it on the loop's thread. It may outlive its loop: destroying the loop cancels the task.
template <class T>
class [[nodiscard]] join_handle {
 public:
  join_handle() noexcept = default;
  join_handle(join_handle&& other) noexcept : m_state(std::exchange(other.m_state, nullptr)) {}
  join_handle& operator=(join_handle&& other) noexcept {
    if (this != &other) {
      detach();
      m_state = std::exchange(other.m_state, nullptr);
    }
    return *this;
  }
  ~join_handle() { detach(); }

  /// Whether the task has finished: with a value, an exception, or cancelled.
  bool done() const noexcept { return m_state != nullptr && m_state->m_done; }

  /// The outcome of a finished task: its value, or its exception rethrown (`asp::cancelled`
  /// if it was cancelled). Throws std::logic_error if the task has not finished.
  T result() {
    if (!done()) throw std::logic_error("asp::join_handle::result: the task has not finished");
    return detail::take_result(*m_state);
  }

  /// Suspends until the task finishes (resumed from the loop's queue, at the virtual time the
  /// task finished), then yields its value or rethrows its exception. One joiner at a time.
  /// The joiner follows the task, not this handle: reassigning or dropping the handle while a
  /// joiner waits changes nothing for it.
  auto operator co_await() & noexcept;
  auto operator co_await() && noexcept { return operator co_await(); }

  /// Stops the task now if it has not finished: destroys its frames (cancelling whatever they
  /// wait for) and completes it with `asp::cancelled`. Returns whether it did. Must not be
  /// called from inside the task itself.
  bool cancel() {
    if (m_state == nullptr || m_state->m_done || m_state->owner() == nullptr) return false;
    detail::loop_access::cancel_spawned(*m_state->owner(), *m_state);
    return true;
  }

  /// Lets the task run on its own; its failure then fails the run.
  void detach() noexcept {
    if (m_state == nullptr) return;
    detail::spawn_state* state = std::exchange(m_state, nullptr);
    if (loop* owner = state->owner()) {
      detail::loop_access::detach_spawned(*owner, *state);
    } else {
      detail::release_spawned(*state);
    }
  }

 private:
  friend struct detail::loop_access;
  explicit join_handle(detail::spawn_state_of<T>* state) noexcept : m_state(state) {}
  detail::spawn_state_of<T>* m_state = nullptr;
};

/// Runs `body` on `l` as a task of its own, starting after the work already due now (at the
/// start of the run when called before it), or at `at` when given. `name` appears in errors.
template <class T>
join_handle<T> spawn(loop& l, task<T> body, std::string name = {},
                     std::optional<time_point> at = {}) {
  return detail::loop_access::handle(
      detail::loop_access::spawn(l, std::move(body), std::move(name), at));
}

/// asp::spawn on the running loop.
template <class T>
join_handle<T> spawn(task<T> body, std::string name = {}) {
  return spawn(current_loop(), std::move(body), std::move(name));
}

/// What `loop::run(options, work...)` does with a task: spawns it, detached.
template <class T>
void start_work(loop& l, task<T> body) {
  spawn(l, std::move(body)).detach();
}

namespace detail {

template <class T>
root_coroutine run_spawned(loop& l, spawn_state_of<T>& state, task<T> body) {
  try {
    if constexpr (std::is_void_v<T>) {
      co_await std::move(body);
    } else {
      state.m_value.emplace(co_await std::move(body));
    }
  } catch (...) {
    state.m_error = std::current_exception();
  }
  loop_access::finish_spawned(l, state);
}

template <class T>
spawn_state_of<T>* loop_access::spawn(loop& l, task<T> body, std::string name,
                                      std::optional<time_point> at) {
  spawn_state_of<T>* state = l.make_spawned(std::move(body), std::move(name));
  const std::coroutine_handle<> root = state->m_root;
  if (at) {
    state->m_start = l.schedule_resume(root, *at);
  } else if (l.m_started) {
    state->m_start = l.schedule_resume(root, l.m_now);
  } else {
    struct start {
      std::coroutine_handle<> m_frame;
      void operator()(time_point, loop&) const { m_frame.resume(); }
      static std::string describe() { return "start of a task"; }
    };
    state->m_start = l.defer(l.make_node(start{root}), duration::zero());
  }
  return state;
}

template <class T>
T run_main(loop& l, task<T> main, run_options options) {
  join_handle<T> handle = spawn(l, std::move(main), "main");
  loop_access::state(handle)->m_fails_run = true;
  l.run(std::move(options));
  if (!handle.done()) {
    throw std::runtime_error("asp: the run ended before its main task finished, at " +
                             to_string(l.now()));
  }
  return handle.result();
}

}  // namespace detail

template <class T>
auto join_handle<T>::operator co_await() & noexcept {
  // Holds the task's state, not this handle, while it waits: the handle may be reassigned or
  // dropped meanwhile, and the loop may destroy the waiting joiner after the handle is gone.
  struct awaiter {
    detail::spawn_state_of<T>* m_state;
    bool m_waiting = false;

    explicit awaiter(detail::spawn_state_of<T>* state) noexcept : m_state(state) {}
    awaiter(const awaiter&) = delete;
    awaiter& operator=(const awaiter&) = delete;
    bool await_ready() const noexcept { return m_state->m_done; }
    void await_suspend(std::coroutine_handle<> joiner) {
      if (m_state->m_joiner) throw std::logic_error("asp::join_handle: the task is already joined");
      m_state->m_joiner = joiner;
      ++m_state->m_refs;
      m_waiting = true;
    }
    T await_resume() { return detail::take_result(*m_state); }
    ~awaiter() {
      if (!m_waiting) return;
      // A joiner destroyed while waiting (cancelled) must not be resumed later.
      m_state->m_joiner_resume.cancel();
      m_state->m_joiner = {};
      detail::release_spawned(*m_state);
    }
  };
  if (m_state == nullptr) std::terminate();
  return awaiter{m_state};
}

template <class T>
detail::spawn_state_of<T>* loop::make_spawned(task<T> body, std::string name) {
  auto* state = new detail::spawn_state_of<T>(m_anchor);
  state->m_name = std::move(name);
  state->m_root = detail::run_spawned<T>(*this, *state, std::move(body)).m_frame;
  m_tasks.add(*state);
  return state;
}

template <class T>
T loop::run(task<T> main, run_options options) {
  return detail::run_main(*this, std::move(main), std::move(options));
}

}  // namespace asp

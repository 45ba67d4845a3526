#pragma once

#include <asp/detail/spawn_state.hpp>
#include <asp/task.hpp>

#include <coroutine>
#include <exception>
#include <stdexcept>
#include <utility>

namespace asp {

class loop;

namespace detail {
struct loop_access;
}  // namespace detail

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
  bool cancel() { return m_state != nullptr && detail::cancel_spawned(*m_state); }

  /// Lets the task run on its own; its failure then fails the run.
  void detach() noexcept {
    if (m_state != nullptr) detail::detach_spawned(*std::exchange(m_state, nullptr));
  }

 private:
  friend class loop;
  friend struct detail::loop_access;
  explicit join_handle(detail::spawn_state_of<T>* state) noexcept : m_state(state) {}
  detail::spawn_state_of<T>* m_state = nullptr;
};

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

}  // namespace asp

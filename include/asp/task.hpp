#pragma once

#include <asp/detail/unique_frame.hpp>

#include <coroutine>
#include <exception>
#include <type_traits>
#include <utility>
#include <variant>

namespace asp {

template <class T = void>
class task;

namespace detail {

struct task_promise_base {
  struct final_awaiter {
    bool await_ready() const noexcept { return false; }
    template <class Promise>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> self) noexcept {
      task_promise_base& p = self.promise();
      // Still inside the awaiter's await_suspend, which started the body: return there, and
      // the awaiter lets the caller go on without a transfer.
      if (p.m_inline) return std::noop_coroutine();
      return p.m_continuation;
    }
    void await_resume() const noexcept {}
  };

  std::suspend_always initial_suspend() const noexcept { return {}; }
  final_awaiter final_suspend() const noexcept { return {}; }

  std::coroutine_handle<> m_continuation = std::noop_coroutine();
  // Whether the body runs inside the awaiter's await_suspend (see task::operator co_await).
  bool m_inline = false;
};

template <class T>
struct task_promise final : task_promise_base {
  task<T> get_return_object() noexcept;
  void unhandled_exception() noexcept { m_result.template emplace<2>(std::current_exception()); }
  template <class U>
  requires std::is_convertible_v<U&&, T>
  void return_value(U&& value) noexcept(std::is_nothrow_constructible_v<T, U&&>) {
    m_result.template emplace<1>(std::forward<U>(value));
  }
  T take_result() {
    if (m_result.index() == 2) std::rethrow_exception(std::get<2>(m_result));
    return std::move(std::get<1>(m_result));
  }

  std::variant<std::monostate, T, std::exception_ptr> m_result;
};

template <>
struct task_promise<void> final : task_promise_base {
  task<void> get_return_object() noexcept;
  void unhandled_exception() noexcept { m_error = std::current_exception(); }
  void return_void() const noexcept {}
  void take_result() {
    if (m_error) std::rethrow_exception(m_error);
  }

  std::exception_ptr m_error;
};

}  // namespace detail

/// A lazy coroutine that produces a `T` (cppcoro's `task`).
///
/// Calling a coroutine function that returns `task<T>` allocates its frame and runs nothing.
/// The body starts when the task is `co_await`ed — inside the awaiting coroutine's resumption,
/// on the loop's thread — and the awaiting coroutine goes on as soon as the body finishes;
/// `co_await` then yields the value or rethrows the body's exception.
///
/// The stack stays flat whatever the compiler does with tail calls. A body that finishes
/// without suspending returns into the `co_await`, which goes on as a plain call would: a
/// coroutine that awaits such tasks in a loop (a stream over a wrapping live source, a
/// coroutine callback that never suspends) does not nest one frame per iteration. Only a body
/// that suspended and is resumed later by the loop resumes its caller by symmetric transfer,
/// once, from the loop's shallow stack. Tasks are resumed on their loop's thread only.
/// A task can also be handed to `loop::spawn` (or `asp::spawn`) to run on its own, and joined.
///
/// A task owns its frame: destroying a task that has not finished destroys the frame and every
/// local in it, which cancels the timers its awaiters had scheduled.
template <class T>
class [[nodiscard]] task {
 public:
  using promise_type = detail::task_promise<T>;
  using value_type = T;

  task() noexcept = default;
  explicit task(std::coroutine_handle<promise_type> frame) noexcept : m_frame(frame) {}

  /// Whether this task holds a coroutine frame.
  bool valid() const noexcept { return static_cast<bool>(m_frame); }

  /// Whether the body has run to its end (with a value or an exception).
  bool done() const noexcept { return m_frame && m_frame.get().done(); }

  /// Starts the body and suspends the caller until it finishes; returns its value or rethrows.
  /// Awaiting an empty `task<void>` completes at once.
  auto operator co_await() && noexcept {
    struct awaiter {
      std::coroutine_handle<promise_type> m_frame;
      bool await_ready() const noexcept { return !m_frame || m_frame.done(); }
      // Runs the body here, as a call. Finished without suspending: the caller goes on at once
      // (false), with no transfer that would nest its next await inside this frame. Suspended:
      // the caller waits, and the body's end resumes it.
      bool await_suspend(std::coroutine_handle<> caller) noexcept {
        promise_type& p = m_frame.promise();
        p.m_continuation = caller;
        p.m_inline = true;
        m_frame.resume();
        if (m_frame.done()) return false;
        p.m_inline = false;
        return true;
      }
      T await_resume() {
        if constexpr (std::is_void_v<T>) {
          if (!m_frame) return;  // an empty task<void> (a plain callable's result): done
        }
        return m_frame.promise().take_result();
      }
    };
    return awaiter{m_frame.get()};
  }

 private:
  detail::unique_frame<promise_type> m_frame;
};

namespace detail {

template <class T>
task<T> task_promise<T>::get_return_object() noexcept {
  return task<T>{std::coroutine_handle<task_promise<T>>::from_promise(*this)};
}

inline task<void> task_promise<void>::get_return_object() noexcept {
  return task<void>{std::coroutine_handle<task_promise<void>>::from_promise(*this)};
}

template <class T>
struct is_task : std::false_type {};
template <class T>
struct is_task<task<T>> : std::true_type {};

}  // namespace detail

/// Whether `T` is an `asp::task<U>` for some `U`.
template <class T>
inline constexpr bool is_task_v = detail::is_task<std::remove_cvref_t<T>>::value;

}  // namespace asp

#pragma once

#include <asp/detail/unique_frame.hpp>

#include <coroutine>
#include <exception>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

namespace asp {

/// An asynchronous generator: a coroutine that may `co_await` (asp::sleep, tasks, I/O) and
/// `co_yield`s values — the counterpart of Python's `async for`, and a live source for
/// `process_stream`.
///
/// Lazy: the body starts at the first `co_await next()`. `next()` runs the body until it
/// yields (the consumer goes on with a copy of the value) or finishes (`std::nullopt`); an
/// exception escaping the body is rethrown from `next()`. Destroying the generator destroys a
/// suspended body.
///
/// As with `asp::task`, the stack stays flat: a body that yields without suspending returns
/// into `next()`, which goes on as a plain call would, so a consumer taking values that are
/// already at hand in a loop nests nothing. A body that suspended and is resumed later by the
/// loop resumes the consumer from its `co_yield` by symmetric transfer.
///
/// With GCC 12, yield a named value (`asp::event e{...}; co_yield e;`): GCC 12 corrupts the
/// frame for some temporaries with non-trivial destructors inside `co_yield` expressions.
template <class T>
class [[nodiscard]] async_generator {
 public:
  using value_type = T;

  struct promise_type {
    const T* m_value = nullptr;
    std::optional<T> m_slot;  // holds a yielded temporary (kept out of the temporary's lifetime)
    std::exception_ptr m_error;
    std::coroutine_handle<> m_consumer = std::noop_coroutine();
    bool m_inline = false;    // the body runs inside next()'s await_suspend
    bool m_produced = false;  // ... and has yielded or finished there

    struct to_consumer {
      bool await_ready() const noexcept { return false; }
      std::coroutine_handle<> await_suspend(std::coroutine_handle<promise_type> self) noexcept {
        promise_type& p = self.promise();
        if (p.m_inline) {
          p.m_produced = true;
          return std::noop_coroutine();  // back into next(), which lets the consumer go on
        }
        return p.m_consumer;
      }
      void await_resume() const noexcept {}
    };

    async_generator get_return_object() noexcept {
      return async_generator{std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_always initial_suspend() const noexcept { return {}; }
    to_consumer final_suspend() noexcept {
      m_value = nullptr;
      return {};
    }
    to_consumer yield_value(const T& value) noexcept {
      m_value = std::addressof(value);
      return {};
    }
    to_consumer yield_value(T&& value) noexcept(std::is_nothrow_move_constructible_v<T>) {
      m_slot.emplace(std::move(value));
      m_value = std::addressof(*m_slot);
      return {};
    }
    void return_void() const noexcept {}
    void unhandled_exception() noexcept { m_error = std::current_exception(); }
  };

  async_generator() noexcept = default;

  /// Awaitable: the next value, or std::nullopt when the body has finished.
  auto next() noexcept {
    struct awaiter {
      std::coroutine_handle<promise_type> m_frame;
      bool await_ready() const noexcept { return !m_frame || m_frame.done(); }
      // Runs the body here, as a call: the consumer goes on at once (false) when it yielded or
      // finished without suspending, and waits for its co_yield otherwise.
      bool await_suspend(std::coroutine_handle<> consumer) noexcept {
        promise_type& p = m_frame.promise();
        p.m_consumer = consumer;
        p.m_inline = true;
        p.m_produced = false;
        m_frame.resume();
        p.m_inline = false;
        return !p.m_produced;
      }
      std::optional<T> await_resume() {
        if (!m_frame) return std::nullopt;
        promise_type& p = m_frame.promise();
        if (p.m_error) std::rethrow_exception(std::exchange(p.m_error, nullptr));
        if (m_frame.done() || p.m_value == nullptr) return std::nullopt;
        return *p.m_value;
      }
    };
    return awaiter{m_frame.get()};
  }

 private:
  explicit async_generator(std::coroutine_handle<promise_type> frame) noexcept : m_frame(frame) {}
  detail::unique_frame<promise_type> m_frame;
};

}  // namespace asp

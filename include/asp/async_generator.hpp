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
/// Lazy: the body starts at the first `co_await next()`. `next()` suspends the consumer and
/// resumes the body, by symmetric transfer, until it yields (the consumer resumes inside the
/// `co_yield`, with a copy of the value) or finishes (`std::nullopt`); an exception escaping
/// the body is rethrown from `next()`. Destroying the generator destroys a suspended body.
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

    struct to_consumer {
      bool await_ready() const noexcept { return false; }
      std::coroutine_handle<> await_suspend(std::coroutine_handle<promise_type> self) noexcept {
        return self.promise().m_consumer;
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
      std::coroutine_handle<> await_suspend(std::coroutine_handle<> consumer) noexcept {
        m_frame.promise().m_consumer = consumer;
        return m_frame;
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

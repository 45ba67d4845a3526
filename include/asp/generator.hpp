#pragma once

#include <asp/detail/unique_frame.hpp>

#include <coroutine>
#include <exception>
#include <iterator>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

namespace asp {

/// A lazy, synchronous generator (cppcoro's `generator`): an input range whose elements a
/// coroutine produces with `co_yield`, one at a time, as the range is iterated. Use it as the
/// `past` of a stream to compute history on the fly, or to read a file lazily. An infinite
/// generator is fine: the run's end time cuts it off.
template <class T>
class [[nodiscard]] generator {
 public:
  using value_type = std::remove_cvref_t<T>;
  using reference = std::conditional_t<std::is_reference_v<T>, T, T&>;
  using pointer = std::add_pointer_t<reference>;

  struct promise_type {
    pointer m_value = nullptr;
    std::optional<value_type> m_slot;  // holds a yielded temporary
    std::exception_ptr m_error;

    generator get_return_object() noexcept {
      return generator{std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_always initial_suspend() const noexcept { return {}; }
    std::suspend_always final_suspend() const noexcept { return {}; }
    // The yielded object lives until the generator is resumed, so a pointer to it suffices.
    std::suspend_always yield_value(std::remove_reference_t<reference>& value) noexcept {
      m_value = std::addressof(value);
      return {};
    }
    template <class U = T>
    requires(!std::is_reference_v<U>) std::suspend_always yield_value(const value_type& value) {
      m_slot.emplace(value);
      m_value = std::addressof(*m_slot);
      return {};
    }
    std::suspend_always yield_value(std::remove_reference_t<reference>&& value) noexcept(
        std::is_nothrow_move_constructible_v<value_type>) {
      if constexpr (std::is_reference_v<T>) {
        m_value = std::addressof(value);
      } else {
        m_slot.emplace(std::move(value));
        m_value = std::addressof(*m_slot);
      }
      return {};
    }
    void return_void() const noexcept {}
    void unhandled_exception() noexcept { m_error = std::current_exception(); }
    template <class U>
    std::suspend_never await_transform(U&&) = delete;  // no co_await in a synchronous generator
  };

  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using difference_type = std::ptrdiff_t;
    using value_type = generator::value_type;
    using reference = generator::reference;

    iterator() noexcept = default;
    explicit iterator(std::coroutine_handle<promise_type> frame) noexcept : m_frame(frame) {}

    friend bool operator==(const iterator& it, std::default_sentinel_t) noexcept {
      return !it.m_frame || it.m_frame.done();
    }
    iterator& operator++() {
      m_frame.resume();
      if (m_frame.done() && m_frame.promise().m_error) {
        std::rethrow_exception(std::exchange(m_frame.promise().m_error, nullptr));
      }
      return *this;
    }
    void operator++(int) { ++*this; }
    reference operator*() const noexcept {
      return static_cast<reference>(*m_frame.promise().m_value);
    }

   private:
    std::coroutine_handle<promise_type> m_frame;
  };

  generator() noexcept = default;

  /// Runs the body to its first `co_yield`; rethrows what the body throws before it.
  iterator begin() {
    if (m_frame) {
      iterator it{m_frame.get()};
      ++it;
      return it;
    }
    return iterator{};
  }
  std::default_sentinel_t end() const noexcept { return {}; }

 private:
  explicit generator(std::coroutine_handle<promise_type> frame) noexcept : m_frame(frame) {}
  detail::unique_frame<promise_type> m_frame;
};

}  // namespace asp

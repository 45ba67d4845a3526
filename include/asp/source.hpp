#pragma once

#include <asp/event.hpp>
#include <asp/pull_iterator.hpp>
#include <asp/task.hpp>
#include <asp/time.hpp>

#include <concepts>
#include <coroutine>
#include <cstddef>
#include <iterator>
#include <memory>
#include <optional>
#include <ranges>
#include <tuple>
#include <type_traits>
#include <utility>

namespace asp {

namespace detail {

template <class E>
struct is_event_struct : std::false_type {};
template <class T>
struct is_event_struct<event<T>> : std::true_type {};

template <class E>
concept time_value_pair = tuple_like<E> &&(std::tuple_size<E>::value == 2) &&
                          std::is_convertible_v<std::tuple_element_t<0, E>, time_point>;

// What `co_await a` goes through: a member operator co_await, or the awaitable itself.
template <class A>
decltype(auto) get_awaiter(A&& a) {
  if constexpr (requires { std::forward<A>(a).operator co_await(); }) {
    return std::forward<A>(a).operator co_await();
  } else {
    return std::forward<A>(a);
  }
}

template <class A>
using await_result_t = decltype(get_awaiter(std::declval<A>()).await_resume());

template <class T>
struct optional_value {};
template <class T>
struct optional_value<std::optional<T>> {
  using type = T;
};

}  // namespace detail

/// A timestamped value: `asp::event<T>`, or a `std::pair` / `std::tuple` of a time_point and a
/// value. Streams deliver `(time, value)` to their callbacks.
template <class E>
concept event_like = detail::is_event_struct<std::remove_cvref_t<E>>::value ||
    detail::time_value_pair<std::remove_cvref_t<E>>;

/// A source of past events: any input range of events — a container, a view, an
/// `asp::generator`, a file reader, `asp::any_past_source`. Read lazily, one event at a time;
/// times must not decrease (or the stream's out_of_order policy applies). See
/// docs/concepts.md.
template <class R>
concept past_source = std::ranges::input_range<R> && event_like<std::ranges::range_value_t<R>>;

/// The event type a live source yields.
template <class S>
using live_event_t = typename detail::optional_value<
    std::remove_cvref_t<detail::await_result_t<decltype(std::declval<S&>().next())>>>::type;

/// A source of live events: `co_await source.next()` yields `std::optional<event>`, std::nullopt
/// at the end — `asp::channel`, `asp::async_generator`, `asp::any_live_source`, sockets. One
/// `next()` is in flight at a time. See docs/concepts.md for who resumes the consumer and how
/// events are stamped.
template <class S>
concept live_source = requires(S& s) {
  typename live_event_t<S>;
}
&&event_like<live_event_t<S>>;

/// A live source that holds something to let go of (a socket, a subscription): `close()` ends
/// it; a consumer waiting in `next()` then sees the end.
template <class S>
concept closable_source = live_source<S> && requires(S& s) {
  s.close();
};

namespace detail {

// An event of type E from any event-like X.
template <class E, class X>
E to_event(X&& x) {
  if constexpr (std::is_same_v<std::remove_cvref_t<X>, E>) {
    return std::forward<X>(x);
  } else {
    using XT = event_traits<std::remove_cvref_t<X>>;
    return E{XT::time(x), XT::value(x)};
  }
}

}  // namespace detail

/// A past source chosen at run time (by a command-line tool, a binding): wraps any
/// `past_source` whose events convert to `E`, at the cost of one virtual call per event, and is
/// one itself. Single pass, move-only.
template <class E>
class any_past_source : public std::ranges::view_interface<any_past_source<E>> {
  static_assert(event_like<E>, "asp::any_past_source<E>: E must be an event type");

  struct source_base {
    virtual ~source_base() = default;
    // The next event, or nullptr at the end; valid until the next call.
    virtual const E* next() = 0;
  };

  template <class R>
  struct source final : source_base {
    explicit source(R range) : m_range(std::move(range)) {}
    const E* next() override {
      if (!m_started) {
        m_it = std::ranges::begin(m_range);
        m_started = true;
      } else {
        ++*m_it;
      }
      if (*m_it == std::ranges::end(m_range)) return nullptr;
      using ref = std::ranges::range_reference_t<R>;
      if constexpr (std::is_lvalue_reference_v<ref> &&
                    std::is_same_v<std::remove_cvref_t<ref>, E>) {
        return std::addressof(**m_it);
      } else {
        m_slot.emplace(detail::to_event<E>(**m_it));
        return std::addressof(*m_slot);
      }
    }
    R m_range;
    std::optional<std::ranges::iterator_t<R>> m_it;
    std::optional<E> m_slot;
    bool m_started = false;
  };

 public:
  /// Single-pass iterator over the events.
  using iterator = pull_iterator<any_past_source, E>;

  /// Takes `range` over; throws what reading it throws, when it is read.
  template <class R>
  requires(!std::is_same_v<std::remove_cvref_t<R>, any_past_source> &&
           past_source<std::remove_cvref_t<R>>) explicit any_past_source(R&& range)
      : m_source(std::make_unique<source<std::remove_cvref_t<R>>>(std::forward<R>(range))) {}

  any_past_source(any_past_source&&) noexcept = default;
  any_past_source& operator=(any_past_source&&) noexcept = default;

  /// Reads the first event (once).
  iterator begin() {
    if (!m_begun) {
      m_current = m_source->next();
      m_begun = true;
    }
    return iterator{this};
  }
  std::default_sentinel_t end() const noexcept { return {}; }

 private:
  friend iterator;
  const E& current() const noexcept { return *m_current; }
  void advance() { m_current = m_source->next(); }
  bool at_end() const noexcept { return m_current == nullptr; }

  std::unique_ptr<source_base> m_source;
  const E* m_current = nullptr;
  bool m_begun = false;
};

/// A live source chosen at run time: wraps any `live_source` whose events convert to `E`, and
/// is one itself (closable: `close()` closes the wrapped source when it can be closed). Each
/// `next()` is a coroutine of its own (one frame per event, on top of the wrapped source's
/// cost). Move-only.
template <class E>
class any_live_source {
  static_assert(event_like<E>, "asp::any_live_source<E>: E must be an event type");

  struct source_base {
    virtual ~source_base() = default;
    virtual task<std::optional<E>> next() = 0;
    virtual void close() = 0;
  };

  template <class S>
  struct source final : source_base {
    explicit source(S s) : m_source(std::move(s)) {}
    task<std::optional<E>> next() override {
      auto got = co_await m_source.next();
      if (!got) co_return std::nullopt;
      co_return detail::to_event<E>(std::move(*got));
    }
    void close() override {
      if constexpr (closable_source<S>) m_source.close();
    }
    S m_source;
  };

 public:
  template <class S>
  requires(!std::is_same_v<std::remove_cvref_t<S>, any_live_source> &&
           live_source<std::remove_cvref_t<S>>) explicit any_live_source(S&& s)
      : m_source(std::make_unique<source<std::remove_cvref_t<S>>>(std::forward<S>(s))) {}

  any_live_source(any_live_source&&) noexcept = default;
  any_live_source& operator=(any_live_source&&) noexcept = default;

  /// Awaitable: the next event, or std::nullopt at the end (see live_source).
  task<std::optional<E>> next() { return m_source->next(); }

  /// Closes the wrapped source if it is closable; otherwise does nothing.
  void close() { m_source->close(); }

 private:
  std::unique_ptr<source_base> m_source;
};

}  // namespace asp

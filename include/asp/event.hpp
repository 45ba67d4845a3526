#pragma once

#include <asp/time.hpp>

#include <cstddef>
#include <functional>
#include <tuple>
#include <type_traits>
#include <utility>

namespace asp {

/// A timestamped value: what streams carry. Sources may also yield
/// `std::pair<time_point, T>` or `std::tuple<time_point, T>`.
template <class T>
struct event {
  time_point time;
  T value;

  friend bool operator==(const event&, const event&) = default;
};

template <class T>
event(time_point, T) -> event<T>;

/// Tag for an absent past or future in `process_stream`.
struct none_t {
  explicit constexpr none_t(int) noexcept {}
};
inline constexpr none_t none{0};

namespace detail {

template <class E>
struct event_traits {
  using value_type = std::remove_cvref_t<std::tuple_element_t<1, E>>;
  static time_point time(const E& e) { return time_point{std::get<0>(e)}; }
  template <class X>
  static decltype(auto) value(X& e) {
    return (std::get<1>(e));
  }
};

template <class T>
struct event_traits<event<T>> {
  using value_type = T;
  static time_point time(const event<T>& e) { return e.time; }
  template <class X>
  static decltype(auto) value(X& e) {
    return (e.value);
  }
};

template <class V>
concept tuple_like = requires {
  std::tuple_size<V>::value;
};

template <class F, class V, class Indices>
struct applicable_with_time_impl : std::false_type {};
template <class F, class V, std::size_t... I>
struct applicable_with_time_impl<F, V, std::index_sequence<I...>>
    : std::is_invocable<F&, time_point, std::tuple_element_t<I, V>&...> {};

template <class F, class V>
constexpr bool applicable_with_time() {
  if constexpr (tuple_like<V>) {
    return applicable_with_time_impl<F, V, std::make_index_sequence<std::tuple_size_v<V>>>::value;
  } else {
    return false;
  }
}

/// Calls a stream callback with an event: `f(time, value)`; else, for a tuple value,
/// `f(time, elements...)` (the original's unpack_args); else `f(value)`.
template <class F, class V>
decltype(auto) invoke_event(F& f, time_point t, V& value) {
  if constexpr (std::is_invocable_v<F&, time_point, V&>) {
    return std::invoke(f, t, value);
  } else if constexpr (applicable_with_time<F, V>()) {
    return std::apply([&](auto&... parts) -> decltype(auto) { return std::invoke(f, t, parts...); },
                      value);
  } else {
    static_assert(std::is_invocable_v<F&, V&>,
                  "asp: a stream callback must be callable as f(time_point, value), "
                  "f(time_point, tuple elements...) or f(value)");
    return std::invoke(f, value);
  }
}

}  // namespace detail

/// The value type of an event-like `E` (asp::event<T>, or a pair or tuple of a time and a
/// value): what a source that wraps another passes on.
template <class E>
using event_value_t = typename detail::event_traits<std::remove_cvref_t<E>>::value_type;

/// The time of an event-like `e`.
template <class E>
time_point event_time(const E& e) {
  return detail::event_traits<std::remove_cvref_t<E>>::time(e);
}

/// The value of an event-like `e`, as a reference into it.
template <class E>
decltype(auto) event_value(E& e) {
  return detail::event_traits<std::remove_cvref_t<E>>::value(e);
}

}  // namespace asp

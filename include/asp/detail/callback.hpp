#pragma once

#include <asp/task.hpp>
#include <asp/time.hpp>

#include <cstddef>
#include <functional>
#include <new>
#include <string>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <utility>

namespace asp::detail {

/// Calls `f(t, args...)` when `f` takes the time first (the original's convention), and
/// `f(args...)` when it does not.
template <class F, class... Args>
decltype(auto) invoke_with_time(F& f, time_point t, Args&... args) {
  if constexpr (std::is_invocable_v<F&, time_point, Args&...>) {
    return std::invoke(f, t, args...);
  } else {
    static_assert(std::is_invocable_v<F&, Args&...>,
                  "asp: a callback must be callable as f(time_point, args...) or f(args...)");
    return std::invoke(f, args...);
  }
}

/// What `invoke_with_time` returns for this callable: void, a value, or an asp::task.
template <class F, class... Args>
using callback_result_t =
    decltype(invoke_with_time(std::declval<F&>(), time_point{}, std::declval<Args&>()...));

// --- Plain or coroutine: the one place where ASP tells them apart. ---
//
// Every callback ASP takes (loop callbacks, posts, stream callbacks, timer ticks, hooks) may be
// a plain callable or a coroutine function, one that returns an asp::task. The helpers below
// make the call and hand back what is left to await: an empty task for a plain call, the
// coroutine's task otherwise.

template <class T>
task<void> discard_value(task<T> body) {
  co_await std::move(body);
}

template <class Callable, class... Args>
task<void> call_and_await(Callable callable, Args... args) {
  co_await callable(args...);
}

/// Calls `call()`; returns the task to await when it is a coroutine, else an empty task. A
/// coroutine's frame may refer to the callable behind `call`, which must outlive the task (a
/// stream's callback, a timer's, a hook's).
template <class Call>
task<void> call_async(Call&& call) {
  using R = decltype(call());
  if constexpr (std::is_same_v<R, task<void>>) {
    return call();
  } else if constexpr (is_task_v<R>) {
    return discard_value(call());
  } else {
    call();
    return {};
  }
}

/// As call_async for `callable(args...)`, for a callable that dies when the call returns (loop
/// callbacks and posts, whose node is recycled): a coroutine function is moved, with its
/// arguments, into the task's own frame, since a coroutine lambda's frame refers to the lambda
/// object. A plain callable is called in place.
template <class Callable, class... Args>
task<void> call_owning(Callable& callable, Args... args) {
  if constexpr (is_task_v<std::invoke_result_t<Callable&, Args&...>>) {
    return call_and_await(std::move(callable), std::move(args)...);
  } else {
    std::invoke(callable, args...);
    return {};
  }
}

/// As call_owning for a callable that outlives the task (a hook's): only the arguments are
/// copied into the task's frame.
template <class Callable, class... Args>
task<void> call_borrowing(Callable& callable, Args... args) {
  auto borrowed = std::ref(callable);  // what call_owning moves into the frame: a reference
  return call_owning(borrowed, std::move(args)...);
}

/// A readable name for a type, for error messages ("callback main::{lambda(...)#1}").
std::string type_name(const std::type_info& type);

/// A callable bound to its arguments, called with the time it was scheduled for.
template <class F, class... Args>
struct bound_callback {
  F m_f;
  std::tuple<Args...> m_args;

  decltype(auto) operator()(time_point due) {
    return std::apply(
        [&](Args&... args) -> decltype(auto) { return invoke_with_time(m_f, due, args...); },
        m_args);
  }
};

/// A move-only `void(time_point, loop&)` callable with 32 bytes of inline storage, for work
/// posted from other threads. Fits a pool node, so taking a post into the loop costs no
/// allocation beyond the one (if any) made by the posting thread.
template <class Context>
class posted_fn {
 public:
  posted_fn() noexcept = default;

  template <class F>
  requires(!std::is_same_v<std::decay_t<F>, posted_fn>) explicit posted_fn(F&& f) {
    using D = std::decay_t<F>;
    if constexpr (sizeof(D) <= inline_size && alignof(D) <= 16 &&
                  std::is_nothrow_move_constructible_v<D>) {
      ::new (static_cast<void*>(m_storage)) D(std::forward<F>(f));
      m_ops = &inline_ops<D>;
    } else {
      *reinterpret_cast<D**>(m_storage) = new D(std::forward<F>(f));
      m_ops = &heap_ops<D>;
    }
  }

  posted_fn(posted_fn&& other) noexcept : m_ops(std::exchange(other.m_ops, nullptr)) {
    if (m_ops) m_ops->move(m_storage, other.m_storage);
  }
  posted_fn& operator=(posted_fn&& other) noexcept {
    if (this != &other) {
      reset();
      m_ops = std::exchange(other.m_ops, nullptr);
      if (m_ops) m_ops->move(m_storage, other.m_storage);
    }
    return *this;
  }
  ~posted_fn() { reset(); }

  /// Whether it holds a callable.
  explicit operator bool() const noexcept { return m_ops != nullptr; }

  void operator()(time_point stamp, Context& context) { m_ops->call(m_storage, stamp, context); }

 private:
  static constexpr std::size_t inline_size = 32;
  struct ops {
    void (*call)(void*, time_point, Context&);
    void (*move)(void* to, void* from) noexcept;
    void (*destroy)(void*) noexcept;
  };

  template <class D>
  static constexpr ops inline_ops{
      [](void* p, time_point t, Context& c) { (*static_cast<D*>(p))(t, c); },
      [](void* to, void* from) noexcept {
        ::new (to) D(std::move(*static_cast<D*>(from)));
        static_cast<D*>(from)->~D();
      },
      [](void* p) noexcept { static_cast<D*>(p)->~D(); }};

  template <class D>
  static constexpr ops heap_ops{
      [](void* p, time_point t, Context& c) { (**static_cast<D**>(p))(t, c); },
      [](void* to, void* from) noexcept { *static_cast<D**>(to) = *static_cast<D**>(from); },
      [](void* p) noexcept { delete *static_cast<D**>(p); }};

  void reset() noexcept {
    if (m_ops) m_ops->destroy(m_storage);
    m_ops = nullptr;
  }

  alignas(16) unsigned char m_storage[inline_size];
  const ops* m_ops = nullptr;
};

}  // namespace asp::detail

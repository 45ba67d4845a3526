#pragma once

#include <asp/detail/callback.hpp>
#include <asp/task.hpp>

#include <functional>
#include <type_traits>
#include <utility>

namespace asp {

/// A stored callback that may be a plain callable or a coroutine function: what the options of
/// runs and streams take (`on_live`, `on_start`, `on_live_start`).
///
/// Calling the hook runs a plain callable at once and returns an empty task; for a coroutine
/// function it returns the function's task, not yet started, for the caller to await (a
/// stream) or spawn (the loop). The callable lives in the hook, so a coroutine lambda's frame
/// may refer to its captures for as long as the hook lives.
template <class... Args>
class hook {
 public:
  hook() noexcept = default;

  template <class F>
  requires(!std::is_same_v<std::remove_cvref_t<F>, hook> &&
           std::is_invocable_v<std::decay_t<F>&, Args...>) hook(F&& f)
      : m_fn(wrap(std::forward<F>(f))) {}  // NOLINT: implicit, like std::function

  explicit operator bool() const noexcept { return static_cast<bool>(m_fn); }

  /// Calls the callable (see the class comment). Throws what a plain callable throws.
  task<void> operator()(Args... args) const { return m_fn(std::forward<Args>(args)...); }

 private:
  // The callable lives in the hook, so a coroutine's task may refer to it.
  template <class F>
  static std::function<task<void>(Args...)> wrap(F&& f) {
    return [fn = std::decay_t<F>(std::forward<F>(f))](Args... args) mutable -> task<void> {
      return detail::call_borrowing(fn, std::move(args)...);
    };
  }

  std::function<task<void>(Args...)> m_fn;
};

}  // namespace asp

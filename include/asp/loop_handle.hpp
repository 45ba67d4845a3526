#pragma once

// What other threads and sources keep of a loop: a work guard that holds its run open, and a
// handle that posts into it. Both outlive the loop safely. (Their constructors from a loop,
// and the handle's posts, are defined in loop.hpp.)

#include <asp/detail/remote.hpp>
#include <asp/time.hpp>

#include <memory>
#include <utility>

namespace asp {

class loop;

namespace detail {
[[noreturn]] void throw_empty_loop_handle();
}  // namespace detail

/// Keeps a loop's run going while no work is scheduled, because input can still arrive
/// (Asio's work guard). Live sources hold one while they are open. Movable; releasing it
/// from any thread is safe, and so is outliving the loop.
class work_guard {
 public:
  work_guard() noexcept = default;
  explicit work_guard(loop& l) noexcept;
  work_guard(work_guard&& other) noexcept = default;
  work_guard& operator=(work_guard&& other) noexcept {
    if (this != &other) {
      reset();
      m_remote = std::move(other.m_remote);
    }
    return *this;
  }
  ~work_guard() { reset(); }

  /// Lets the run end when it has nothing left to do.
  void reset() noexcept {
    if (m_remote) std::exchange(m_remote, nullptr)->drop_hold();
  }

 private:
  std::shared_ptr<detail::loop_remote> m_remote;
};

/// A loop as other threads reach it, for as long as they keep the handle: a source's own
/// thread (a client library's callback thread, a reader thread) posts its completions and
/// failures into the loop through it. Posting after the loop has been destroyed throws
/// std::logic_error, so a thread that outlives the loop fails loudly instead of touching
/// freed memory. Copyable; every member may be called from any thread.
class loop_handle {
 public:
  loop_handle() noexcept = default;
  explicit loop_handle(loop& l) noexcept;

  /// As loop::post from another thread: runs `f(stamp)` (or `f()`) on the loop, due at its
  /// arrival stamp, the real clock's reading now.
  template <class F>
  void post(F&& f);

  /// As loop::post_at: due at the source's own time `stamp`.
  template <class F>
  void post_at(time_point stamp, F&& f);

  /// Whether the loop has been destroyed (posting then throws). A default-constructed handle,
  /// which reaches no loop, counts as gone.
  bool gone() const noexcept { return !m_remote || m_remote->gone(); }

 private:
  std::shared_ptr<detail::loop_remote> m_remote;
};

}  // namespace asp

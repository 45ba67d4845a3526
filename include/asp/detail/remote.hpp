#pragma once

#include <asp/clock.hpp>
#include <asp/detail/callback.hpp>
#include <asp/detail/wakeup.hpp>
#include <asp/time.hpp>

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace asp {
class loop;
}

namespace asp::detail {

/// Work posted from another thread, with the stamp it is due at.
struct post_item {
  time_point stamp;
  posted_fn<loop> fn;
};

/// What other threads reach of a loop: the inbox of posted work, the wake-up line, the count of
/// holds that keep a run going (work guards, open channels), and the real clock.
///
/// The loop, its work guards and its channels share it (std::shared_ptr), so that any of them
/// may be destroyed first: once the loop is gone, posting throws std::logic_error and
/// releasing a hold does nothing.
class loop_remote {
 public:
  explicit loop_remote(std::unique_ptr<asp::clock> own);
  explicit loop_remote(asp::clock& real_clock) noexcept : m_clock(&real_clock) {}

  asp::clock& clock() const noexcept { return *m_clock; }

  /// Appends `fn`, due at `stamp` (or at the real clock's reading, taken under the lock so that
  /// posts enter the loop in stamp order), and wakes the loop if it sleeps. Throws
  /// std::logic_error when the loop has been destroyed.
  void post(std::optional<time_point> stamp, posted_fn<loop> fn);

  /// As post for each of `fns`, under one lock and one clock reading.
  template <class Range, class Make>
  void post_all(Range&& callables, Make make) {
    bool wake = false;
    {
      std::lock_guard lock(m_mutex);
      check_open();
      const time_point stamp = m_clock->now();
      for (auto&& f : callables) m_posts.push_back({stamp, make(std::forward<decltype(f)>(f))});
      wake = mark_posts_waiting();
    }
    if (wake) wake_if_sleeping();
  }

  /// Whether posted work waits to be taken in: one relaxed load, cheap enough for the replay
  /// path to look before every piece of work.
  bool posts_waiting() const noexcept { return m_posts_waiting.load(std::memory_order_relaxed); }

  /// On the loop's thread: moves the inbox into `out` (which must be empty). Returns whether it
  /// took anything.
  bool take(std::vector<post_item>& out);

  /// Whether the loop has been destroyed.
  bool gone() const noexcept { return m_gone.load(std::memory_order_acquire); }

  void add_hold() noexcept { m_holds.fetch_add(1, std::memory_order_relaxed); }
  void drop_hold() noexcept {
    if (m_holds.fetch_sub(1, std::memory_order_acq_rel) == 1) m_wakeup.notify();
  }
  bool held() const noexcept { return m_holds.load(std::memory_order_acquire) > 0; }

  /// Makes the loop's current or next wait return. Async-signal-safe.
  void notify() noexcept { m_wakeup.notify(); }

  /// On the loop's thread: blocks on the real clock until `deadline`, a post or a notify(),
  /// unless a post is already waiting or `stop` is set.
  void wait_until(time_point deadline, const std::atomic<bool>& stop);

  /// Called by the loop's destructor: later posts throw, and pending ones are destroyed.
  void close() noexcept;

 private:
  void check_open() const;
  bool mark_posts_waiting() noexcept;
  void wake_if_sleeping() noexcept;

  asp::clock* m_clock;
  std::unique_ptr<asp::clock> m_own_clock;
  std::mutex m_mutex;
  std::vector<post_item> m_posts;  // guarded by m_mutex
  bool m_closed = false;           // guarded by m_mutex
  std::atomic<bool> m_gone{false};
  std::atomic<bool> m_posts_waiting{false};
  std::atomic<bool> m_sleeping{false};
  std::atomic<int> m_holds{0};
  wakeup m_wakeup;
};

/// Lets the handles that live on a loop's thread (timer_handle, the state behind a
/// join_handle) outlive their loop: the loop clears `m_loop` when it is destroyed, and the last
/// holder frees the anchor. Its count is not atomic: those handles never leave the loop's
/// thread.
struct loop_anchor {
  loop* m_loop;
  std::size_t m_refs = 1;
};

inline loop_anchor* retain(loop_anchor* anchor) noexcept {
  if (anchor != nullptr) ++anchor->m_refs;
  return anchor;
}

inline void release(loop_anchor* anchor) noexcept {
  if (anchor != nullptr && --anchor->m_refs == 0) delete anchor;
}

}  // namespace asp::detail

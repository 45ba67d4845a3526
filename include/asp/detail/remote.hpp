#pragma once

#include <asp/backend.hpp>
#include <asp/clock.hpp>
#include <asp/detail/callback.hpp>
#include <asp/time.hpp>

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace asp {
class loop;
}

namespace asp::detail {

class work_queue;

/// Work posted from another thread, with the stamp it is due at.
struct post_item {
  time_point stamp;
  posted_fn<loop> fn;
};

/// A change of the replay rate asked for by another thread, with the real time it was asked
/// at (the loop re-bases its pacing at that moment).
struct pacing_request {
  enum class kind { rate, pause, resume };
  kind what;
  std::optional<double> rate;
  time_point at;
};

/// What other threads reach of a loop: the inbox of posted work and pacing requests, the
/// waiting backend and its wake-up, the count of holds that keep a run going (work guards,
/// open channels), and the real clock.
///
/// The loop, its work guards and its channels share it (std::shared_ptr), so that any of them
/// may be destroyed first: once the loop is gone, posting throws std::logic_error and releasing
/// a hold does nothing.
class loop_remote {
 public:
  /// `attention` is the loop's flag word: posts set `input_bit` in it (under the lock, while
  /// the loop lives), so the loop's replay path needs one load to know of stops and input.
  loop_remote(std::unique_ptr<asp::clock> own_clock, asp::clock* clock,
              std::unique_ptr<asp::backend> own_backend, asp::backend* backend,
              std::atomic<unsigned>& attention);

  static constexpr unsigned stop_bit = 1;
  static constexpr unsigned input_bit = 2;

  asp::clock& clock() const noexcept { return *m_clock; }
  asp::backend& backend() const noexcept { return *m_backend; }

  /// Appends `fn`, due at `stamp` (or at the real clock's reading, taken under the lock so that
  /// posts enter the loop in stamp order), and wakes the loop if it is idle. Throws
  /// std::logic_error when the loop has been destroyed.
  void post(std::optional<time_point> stamp, posted_fn<loop> fn);

  /// As post for each of `callables`, under one lock and one clock reading.
  template <class Range, class Make>
  void post_all(Range&& callables, Make make) {
    std::lock_guard lock(m_mutex);
    check_open();
    const time_point stamp = m_clock->now();
    for (auto&& f : callables) m_posts.push_back({stamp, make(std::forward<decltype(f)>(f))});
    announce();
  }

  /// Queues a pacing change for the loop's thread, stamped with the real clock now.
  void request(pacing_request::kind what, std::optional<double> rate = {});

  /// Whether posted work or a request waits to be taken in.
  bool posts_waiting() const noexcept { return m_posts_waiting.load(std::memory_order_relaxed); }

  /// On the loop's thread: moves the inbox into `posts` and `requests` (both empty). Returns
  /// whether it took anything.
  bool take(std::vector<post_item>& posts, std::vector<pacing_request>& requests);

  /// Whether the loop has been destroyed.
  bool gone() const noexcept { return m_gone.load(std::memory_order_acquire); }

  void add_hold() noexcept { m_holds.fetch_add(1, std::memory_order_relaxed); }
  void drop_hold() noexcept;
  bool held() const noexcept { return m_holds.load(std::memory_order_acquire) > 0; }

  /// Makes the loop's current or next wait return. Async-signal-safe.
  void wake() noexcept { m_backend->wake(); }

  /// Called (under the inbox lock, from the thread that posts) when work arrives for an idle
  /// loop, besides waking the backend: how a host loop that drives ASP learns of it.
  void set_on_wake(std::function<void()> hook);

  /// On the loop's thread: from now until `busy()`, posts wake the loop (the loop is idle: it
  /// waits, or its host does). Returns false, leaving it busy, when input is already waiting.
  bool idle() noexcept;
  void busy() noexcept { m_sleeping.store(false, std::memory_order_relaxed); }

  /// Called by the loop's destructor: later posts throw, and pending ones are destroyed.
  void close() noexcept;

 private:
  void check_open() const;
  void announce();

  std::unique_ptr<asp::clock> m_own_clock;
  asp::clock* m_clock;
  std::unique_ptr<asp::backend> m_own_backend;
  asp::backend* m_backend;
  std::mutex m_mutex;
  std::vector<post_item> m_posts;          // guarded by m_mutex
  std::vector<pacing_request> m_requests;  // guarded by m_mutex
  std::function<void()> m_on_wake;         // guarded by m_mutex
  bool m_closed = false;                   // guarded by m_mutex
  std::atomic<unsigned>* m_attention;      // guarded by m_mutex: null once closed
  std::atomic<bool> m_gone{false};
  std::atomic<bool> m_posts_waiting{false};
  std::atomic<bool> m_sleeping{false};
  std::atomic<int> m_holds{0};
};

/// Lets the handles that live on a loop's thread (timer_handle, the state behind a
/// join_handle) outlive their loop: the loop clears `m_loop` when it is destroyed, and the last
/// holder frees the anchor. Its count is not atomic: those handles never leave the loop's
/// thread.
struct loop_anchor {
  loop* m_loop;
  work_queue* m_queue;
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

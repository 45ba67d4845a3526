#pragma once

#include <asp/backend.hpp>
#include <asp/clock.hpp>
#include <asp/detail/attention.hpp>
#include <asp/detail/callback.hpp>
#include <asp/detail/post_inbox.hpp>
#include <asp/time.hpp>

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <ranges>
#include <vector>

namespace asp {
class loop;
}

namespace asp::detail {

class work_queue;

/// A change of the replay rate asked for by another thread, with the real time it was asked
/// at (the loop re-bases its pacing at that moment).
struct pacing_request {
  enum class kind { rate, pause, resume };
  kind what;
  std::optional<double> rate;
  time_point at;
};

/// What other threads reach of a loop: the inbox of posted work (no lock), pacing requests,
/// the waiting backend and its wake-up, the count of holds that keep a run going (work guards,
/// open channels), and the real clock.
///
/// The loop, its work guards and its channels share it (std::shared_ptr), so that any of them
/// may be destroyed first: once the loop is gone, posting throws std::logic_error and releasing
/// a hold does nothing.
class loop_remote {
 public:
  /// `attention_word` is the loop's attention word: posts set its input bit (detail::attention), so
  /// the loop's replay path needs one load to know of stops and input. It is also the inbox's
  /// only flag.
  loop_remote(std::unique_ptr<asp::clock> own_clock, asp::clock* clock,
              std::unique_ptr<asp::backend> own_backend, asp::backend* backend,
              std::atomic<unsigned>& attention_word);

  asp::clock& clock() const noexcept { return *m_clock; }
  asp::backend& backend() const noexcept { return *m_backend; }

  /// Appends `fn`, due at `stamp` (or at the real clock's reading, taken once its slot is
  /// claimed, so that one thread's posts are stamped in their order), and wakes the loop if it
  /// is idle. Throws std::logic_error when the loop has been destroyed.
  void post(std::optional<time_point> stamp, posted_fn<loop> fn);

  /// As post for each of `callables`, with one clock reading and one claim of slots for every
  /// block's worth. `make(callable)` makes the posted_fn.
  template <class Range, class Make>
  void post_all(Range&& callables, Make make) {
    if constexpr (std::ranges::sized_range<Range> && std::ranges::forward_range<Range>) {
      auto it = std::ranges::begin(callables);
      std::size_t left = static_cast<std::size_t>(std::ranges::size(callables));
      std::optional<time_point> stamp;
      while (left > 0) {
        const post_inbox::claim c = m_inbox.reserve(left);
        if (!stamp) stamp = m_clock->now();
        post_inbox::slot* slots = c.where->slots + c.first;
        std::size_t filled = 0;
        try {
          for (; filled < c.count; ++filled, ++it) {
            slots[filled].stamp = *stamp;
            slots[filled].fn = make(*it);
          }
        } catch (...) {
          // The claimed slots must be marked written; those not filled hold nothing.
          publish(slots, c.count);
          throw;
        }
        publish(slots, c.count);
        left -= c.count;
      }
      if (!stamp) check_open();
    } else {
      std::vector<posted_fn<loop>> made;
      for (auto&& f : callables) made.push_back(make(std::forward<decltype(f)>(f)));
      post_all(made, [](posted_fn<loop>& fn) { return std::move(fn); });
    }
  }

  /// Queues a pacing change for the loop's thread, stamped with the real clock now.
  void request(pacing_request::kind what, std::optional<double> rate = {});

  /// Whether posted work or a request may wait to be taken in.
  bool posts_waiting() const noexcept {
    return (m_attention->load(std::memory_order_seq_cst) & attention::input_bit) != 0;
  }

  /// On the loop's thread: calls `each(stamp, fn)` for each piece of posted work, in the order
  /// the posting threads claimed their slots, and moves the pacing requests into `requests`
  /// (empty). Returns whether it took anything.
  ///
  /// The attention word's input bit stays set while work flows in: producers then see it set
  /// and touch nothing of the loop's, and the loop looks at the inbox's head before each piece
  /// of work. After `quiet_after` looks that find nothing (or when the loop is about to wait),
  /// the loop clears it, and the next post sets it again.
  template <class Each>
  bool take(std::vector<pacing_request>& requests, Each&& each) {
    if (!posts_waiting()) return false;
    bool took = false;
    if (m_requests_waiting.load(std::memory_order_acquire)) {
      std::lock_guard lock(m_mutex);
      m_requests_waiting.store(false, std::memory_order_relaxed);
      requests.swap(m_requests);
      took = !requests.empty();
    }
    if (m_inbox.read(each) > 0) took = true;
    if (took) {
      m_empty_looks = 0;
    } else if (++m_empty_looks >= quiet_after) {
      quiet();
    }
    return took;
  }
  static constexpr unsigned quiet_after = 64;

  /// Whether the loop has been destroyed.
  bool gone() const noexcept { return m_gone.load(std::memory_order_acquire); }

  void add_hold() noexcept { m_holds.fetch_add(1, std::memory_order_relaxed); }
  void drop_hold() noexcept;
  bool held() const noexcept { return m_holds.load(std::memory_order_acquire) > 0; }

  /// Makes the loop's current or next wait return. Async-signal-safe.
  void wake() noexcept { m_backend->wake(); }

  /// Called (from the thread that posts) when work arrives for an idle loop, besides waking the
  /// backend: how a host loop that drives ASP learns of it.
  void set_on_wake(std::function<void()> hook);

  /// On the loop's thread, with the inbox read: from now until `busy()`, posts wake the loop
  /// (the loop is idle: it waits, or its host does). Returns false, leaving it busy, when input
  /// is already waiting.
  bool idle() noexcept;
  void busy() noexcept { m_sleeping.store(false, std::memory_order_relaxed); }

  /// On the loop's thread, with the inbox read, before it polls for input (run_options::
  /// busy_poll): clears the input bit, so that the next post sets it again — waking no one,
  /// the loop being awake. Returns false, the bit set, when input is already waiting.
  bool quiet_for_polling() noexcept { return quiet(); }

  /// Called by the loop's destructor: later posts throw, and pending ones are destroyed.
  void close() noexcept;

 private:
  void check_open() const;
  // Marks `count` claimed slots written, after telling the loop of them.
  void publish(post_inbox::slot* slots, std::size_t count) noexcept;
  // Sets the attention word's input bit; returns whether the loop is idle and must be woken.
  bool flag_input() noexcept;
  // On the loop's thread: clears the input bit, unless a slot is claimed and not read (its
  // producer may have seen the bit set and not set it again). Returns whether it cleared it.
  bool quiet() noexcept;
  // Under m_mutex: wakes the loop unless it is gone.
  void wake_locked() noexcept;

  std::unique_ptr<asp::clock> m_own_clock;
  asp::clock* m_clock;
  std::unique_ptr<asp::backend> m_own_backend;
  asp::backend* m_backend;
  // The loop's attention word. Producers touch it only between claiming a slot and marking it
  // written, and the loop's close waits for every claimed slot, so it outlives their use.
  std::atomic<unsigned>* m_attention;
  post_inbox m_inbox;
  std::mutex m_mutex;
  std::vector<pacing_request> m_requests;  // guarded by m_mutex
  std::function<void()> m_on_wake;         // guarded by m_mutex
  bool m_closed = false;                   // guarded by m_mutex
  std::atomic<bool> m_requests_waiting{false};
  std::atomic<bool> m_gone{false};
  unsigned m_empty_looks = 0;  // the loop's, see take()
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

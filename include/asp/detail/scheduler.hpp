#pragma once

#include <asp/backend.hpp>
#include <asp/clock.hpp>
#include <asp/detail/attention.hpp>
#include <asp/detail/callback.hpp>
#include <asp/detail/failure.hpp>
#include <asp/detail/make_work.hpp>
#include <asp/detail/pacer.hpp>
#include <asp/detail/remote.hpp>
#include <asp/detail/spawn_state.hpp>
#include <asp/detail/task_set.hpp>
#include <asp/detail/work_queue.hpp>
#include <asp/hook.hpp>
#include <asp/loop_stats.hpp>
#include <asp/task.hpp>
#include <asp/time.hpp>
#include <asp/timer_handle.hpp>

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace asp {
class loop;
}

namespace asp::detail {

/// What a loop is made of, behind its user API: the work queue and the virtual time, the
/// spawned tasks, the attention word, what other threads reach (the remote), the pacer and the
/// run's first failure. `asp::loop` is a façade over it (a private base): the run phases are
/// the loop's (src/loop.cpp), the scheduling steps here (defined in src/loop.cpp, beside the run
/// phases).
struct scheduler {
  using posted = posted_fn<loop>;
  struct deferred_item {
    duration delay;
    work_node* node;
  };
  enum class step { over, wait };

  scheduler(std::unique_ptr<asp::clock> own_clock, asp::clock* clock,
            std::unique_ptr<asp::backend> own_backend, asp::backend* backend);
  scheduler(const scheduler&) = delete;
  scheduler& operator=(const scheduler&) = delete;
  ~scheduler() = default;

  // Scheduling (the work queue; docs/design.md, "What is scheduled").
  timer_handle schedule(work_node* node, time_point due) {
    const std::uint64_t seq = m_queue.push(node, due, m_started ? m_now : time_point::min());
    return {m_anchor, node, seq};
  }
  timer_handle schedule_resume(std::coroutine_handle<> h, time_point due);
  work_ticket resume_at(std::coroutine_handle<> h, time_point due);
  // The same for a stream's next event (work_queue::push_in_turn).
  work_ticket resume_in_turn(std::coroutine_handle<> h, time_point due);
  // Before the first run: `node` runs `delay` after the run's start.
  timer_handle defer(work_node* node, duration delay);
  template <class D>
  pool_node* make_node(D&& callable) {
    return detail::make_node(m_queue, std::forward<D>(callable));
  }
  template <class F, class... Args>
  pool_node* make_callback(F&& f, Args&&... args) {
    return detail::make_callback(m_queue, std::forward<F>(f), std::forward<Args>(args)...);
  }

  // A spawned task: its state with its root coroutine (the caller's join_handle takes one of
  // its two references), then its start, at `at` or after the work due now (at the run's
  // start before the first run).
  template <class T>
  spawn_state_of<T>* make_spawned(task<T> body, std::string name) {
    auto* state = new spawn_state_of<T>(m_anchor);
    state->m_name = std::move(name);
    state->m_root = run_spawned<T>(*state, std::move(body)).m_frame;
    m_tasks.add(*state);
    return state;
  }
  void schedule_start(spawn_state& state, std::optional<time_point> at);

  // The stream's fast path: work due at `due` would run next, and may run at once.
  bool may_run_next(time_point due) const noexcept {
    // No stop requested, no input waiting to be taken in, no pacing: one load for all three.
    if (m_attention.load(std::memory_order_relaxed) != 0) return false;
    if (due > m_real || due > m_end) return false;
    return m_queue.would_run_first(due);
  }
  void advance_to(time_point due) noexcept {
    if (m_now < due) m_now = due;
    m_current_due = due;
    ++m_stats.runs;
  }

  // A reading of the real clock on the loop's thread during a run (a live completion's
  // arrival stamp), kept as the loop's latest: the work it stamps then runs without another.
  time_point read_real() noexcept {
    const time_point t = m_remote->clock().now();
    if (m_real < t) m_real = t;
    return t;
  }

  // Before the loop sleeps (run_options::busy_poll): polls the attention word for input or a
  // stop until m_busy_poll has passed or the real clock reaches m_wait_until. True when the
  // loop should look again instead of sleeping.
  bool poll_for_input() noexcept;

  // Pacing (contract C9) and stops.
  bool due_by_real(time_point due) const noexcept { return m_pacer.due_by(due, m_real, m_now); }
  bool stop_requested() const noexcept {
    return (m_attention.load(std::memory_order_relaxed) & attention::stop_bit) != 0;
  }
  void consume_stop() noexcept {
    m_attention.fetch_and(~attention::stop_bit, std::memory_order_relaxed);
  }

  std::shared_ptr<loop_remote> m_remote;
  loop_anchor* m_anchor = nullptr;  // made by the loop, which it points to
  time_point m_now{};
  time_point m_current_due{};
  time_point m_real{};
  time_point m_end = time_point::max();
  work_queue m_queue;
  std::vector<deferred_item> m_deferred;
  task_set m_tasks;
  std::uint64_t m_streams = 0;

  bool m_started = false;
  bool m_running = false;
  bool m_live = false;
  bool m_tearing_down = false;
  hook<time_point> m_on_live;
  std::function<void()> m_on_stop;
  loop_stats m_stats;

  failure_record m_failure;

  // The attention word (its bits: detail::attention). On a cache line of its own: posting
  // threads read it, and the loop writes its neighbours for every event.
  alignas(64) std::atomic<unsigned> m_attention{0};
  alignas(64) time_point m_wait_until = time_point::max();  // set by drain() on step::wait
  std::vector<pacing_request> m_requests_taken;
  std::chrono::nanoseconds m_busy_poll{0};  // the run's run_options::busy_poll

  pacer m_pacer;
};

}  // namespace asp::detail

#pragma once

#include <asp/clock.hpp>
#include <asp/detail/callback.hpp>
#include <asp/detail/remote.hpp>
#include <asp/detail/work.hpp>
#include <asp/error.hpp>
#include <asp/hook.hpp>
#include <asp/task.hpp>
#include <asp/time.hpp>

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

namespace asp {

class loop;
class stream_handle;
template <class Callback, class Past, class Future>
struct stream_spec;

/// How one call of `loop::run` starts, ends and reports.
struct run_options {
  /// The virtual time the run starts at. Without it, the first run starts at the earlier of
  /// the real time and the earliest work already scheduled (DESIGN §2 rule 3), so history
  /// replays on history's clock. Work due before the start runs first, in its own order, with
  /// `now()` at the start. A later run continues from where the previous one left `now()`.
  std::optional<time_point> start{};

  /// The run returns once all work due at or before `end` has run, leaving later work pending
  /// (a later run continues it), and `now()` at `end` once the real clock has reached it.
  std::optional<time_point> end{};

  /// Called once per loop, at the moment it turns live: the first time the earliest work lies
  /// ahead of the real clock and the loop is about to wait. Receives `now()`. A coroutine
  /// function's task is spawned.
  hook<time_point> on_live{};

  /// How fast history replays (DESIGN §2 rule 9), from the start of this run: `rate` times the
  /// original speed (1.0 is real time, 10.0 ten times faster, 0.5 half speed; must be
  /// positive). Without it, or when the loop already paces at this rate (a host passing the
  /// same options to every `poll`, a run after a stop), the loop keeps its current pacing and
  /// its timeline: as fast as possible, unless a rate was set before. Under pacing, work due at
  /// virtual time v runs once the real clock reaches `anchor_real + (v - anchor_virtual) / rate`
  /// (or v itself, when that is later: pacing ends where the real clock is reached and the loop is
  /// live), the anchors being the run's start and every later change of rate, pause or resume, so
  /// the paced timeline never jumps. `now()` still shows the work's own due time. See
  /// `loop::set_rate`, `pause`, `resume`.
  std::optional<double> rate{};
};

/// Counters that tests and benchmarks read to prove what the loop did (not timing).
struct loop_stats {
  std::uint64_t runs = 0;   ///< pieces of work run
  std::uint64_t waits = 0;  ///< times the loop waited on the real clock or for input
};

/// A scheduled callback or wake-up that can be cancelled. Cancelling after it ran, twice, on a
/// default-constructed handle, or after the loop was destroyed is harmless. Copies name the
/// same work. Use it on the loop's thread.
class timer_handle {
 public:
  timer_handle() noexcept = default;
  timer_handle(const timer_handle& other) noexcept
      : m_anchor(detail::retain(other.m_anchor)), m_node(other.m_node), m_seq(other.m_seq) {}
  timer_handle(timer_handle&& other) noexcept
      : m_anchor(std::exchange(other.m_anchor, nullptr)),
        m_node(other.m_node),
        m_seq(other.m_seq) {}
  timer_handle& operator=(timer_handle other) noexcept {
    std::swap(m_anchor, other.m_anchor);
    m_node = other.m_node;
    m_seq = other.m_seq;
    return *this;
  }
  ~timer_handle() { detail::release(m_anchor); }

  /// Cancels the work if it has not run yet (its callable is destroyed at once); returns
  /// whether it did.
  bool cancel() noexcept;

  /// Whether the work is still waiting to run.
  bool pending() const noexcept {
    return m_anchor != nullptr && m_anchor->m_loop != nullptr && m_node->m_seq == m_seq &&
           !m_node->cancelled();
  }

 private:
  friend class loop;
  timer_handle(detail::loop_anchor* anchor, detail::work_node* node, std::uint64_t seq) noexcept
      : m_anchor(detail::retain(anchor)), m_node(node), m_seq(seq) {}

  detail::loop_anchor* m_anchor = nullptr;
  detail::work_node* m_node = nullptr;
  std::uint64_t m_seq = 0;
};

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

namespace detail {

/// Shared between a spawned task's root coroutine, its join_handle, and a joiner while it
/// waits; freed by the last of them (release_spawned).
struct spawn_state {
  explicit spawn_state(loop_anchor* anchor) noexcept : m_anchor(retain(anchor)) {}
  spawn_state(const spawn_state&) = delete;
  spawn_state& operator=(const spawn_state&) = delete;
  virtual ~spawn_state() { release(m_anchor); }

  /// The loop, or nullptr once it is destroyed (everything it ran is then finished).
  loop* owner() const noexcept { return m_anchor->m_loop; }

  loop_anchor* m_anchor;
  int m_refs = 2;
  bool m_done = false;
  bool m_detached = false;
  bool m_observed = false;
  bool m_fails_run = false;  // the run's main task: its failure is the run's failure
  std::string m_name;
  const std::type_info* m_type = nullptr;
  std::exception_ptr m_error;
  std::coroutine_handle<> m_root;
  std::coroutine_handle<> m_joiner;
  timer_handle m_start;
  timer_handle m_joiner_resume;
  spawn_state* m_prev = nullptr;
  spawn_state* m_next = nullptr;

  std::string describe() const;
};

template <class T>
struct spawn_state_of final : spawn_state {
  using spawn_state::spawn_state;
  std::optional<T> m_value;
};

template <>
struct spawn_state_of<void> final : spawn_state {
  using spawn_state::spawn_state;
};

/// Drops one reference to `state`, freeing it with the last.
inline void release_spawned(spawn_state& state) noexcept {
  if (--state.m_refs == 0) delete &state;
}

/// The outcome of a finished task: its value, or its exception rethrown.
template <class T>
T take_result(spawn_state_of<T>& state) {
  state.m_observed = true;
  if (state.m_error) std::rethrow_exception(state.m_error);
  if constexpr (!std::is_void_v<T>) return std::move(*state.m_value);
}

/// The coroutine that runs a spawned task on its own: it starts from the loop's queue,
/// records the outcome, and destroys itself at its end.
struct root_coroutine {
  struct promise_type {
    root_coroutine get_return_object() noexcept {
      return {std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_always initial_suspend() const noexcept { return {}; }
    std::suspend_never final_suspend() const noexcept { return {}; }
    void return_void() const noexcept {}
    void unhandled_exception() const noexcept { std::terminate(); }
  };
  std::coroutine_handle<promise_type> m_frame;
};

template <class T>
root_coroutine run_spawned(loop& l, spawn_state_of<T>& state, task<T> body);

/// Calls a coroutine callable that this frame owns, so that the callable outlives its task.
template <class Bound>
task<void> call_owned(Bound callable, time_point due) {
  co_await callable(due);
}

inline thread_local loop* t_current_loop = nullptr;

/// Reaches the callable that a pool node holds inline, or through a pointer when too big.
template <class C>
struct node_access {
  static constexpr bool fits = sizeof(C) <= pool_node::inline_size && alignof(C) <= 16;

  static C& get(work_node* n) noexcept {
    auto* storage = static_cast<pool_node*>(n)->m_storage;
    if constexpr (fits) {
      return *std::launder(reinterpret_cast<C*>(storage));
    } else {
      return **std::launder(reinterpret_cast<C**>(storage));
    }
  }

  static void destroy(work_node* n) noexcept {
    if constexpr (fits) {
      get(n).~C();
    } else {
      delete &get(n);
    }
  }
};

}  // namespace detail

/// A spawned task: join it with `co_await`, look at its outcome, or cancel it. Dropping the
/// handle detaches the task: it runs on, and if it fails the run fails with its error.
/// Use it on the loop's thread. It may outlive its loop: destroying the loop cancels the task.
template <class T>
class [[nodiscard]] join_handle {
 public:
  join_handle() noexcept = default;
  join_handle(join_handle&& other) noexcept : m_state(std::exchange(other.m_state, nullptr)) {}
  join_handle& operator=(join_handle&& other) noexcept {
    if (this != &other) {
      detach();
      m_state = std::exchange(other.m_state, nullptr);
    }
    return *this;
  }
  ~join_handle() { detach(); }

  /// Whether the task has finished: with a value, an exception, or cancelled.
  bool done() const noexcept { return m_state != nullptr && m_state->m_done; }

  /// The outcome of a finished task: its value, or its exception rethrown (`asp::cancelled`
  /// if it was cancelled). Throws std::logic_error if the task has not finished.
  T result();

  /// Suspends until the task finishes (resumed from the loop's queue, at the virtual time the
  /// task finished), then yields its value or rethrows its exception. One joiner at a time.
  /// The joiner follows the task, not this handle: reassigning or dropping the handle while a
  /// joiner waits changes nothing for it.
  auto operator co_await() & noexcept;
  auto operator co_await() && noexcept { return operator co_await(); }

  /// Stops the task now if it has not finished: destroys its frames (cancelling whatever they
  /// wait for) and completes it with `asp::cancelled`. Returns whether it did. Must not be
  /// called from inside the task itself.
  bool cancel();

  /// Lets the task run on its own; its failure then fails the run.
  void detach() noexcept;

 private:
  friend class loop;
  explicit join_handle(detail::spawn_state_of<T>* state) noexcept : m_state(state) {}
  detail::spawn_state_of<T>* m_state = nullptr;
};

/// ASP's event loop: single-threaded, on a virtual clock (DESIGN §2; docs/design.md lists its
/// phases).
///
/// All work — callbacks, coroutine wake-ups, the next event of each stream, live input — has
/// a due time and runs in order of (due time, sequence number), the sequence number being
/// taken when the work is scheduled. While a piece of work runs, `now()` is the later of the
/// previous `now()` and its due time, never the time spent computing. Work due at or before
/// the real clock runs at once (fast-forward); when the earliest work lies ahead, the loop
/// waits for the real clock, for input, or for a wake-up from another thread.
///
/// A loop runs in one of two modes. `run` owns the thread: it runs what is due and, when the
/// earliest work lies ahead, blocks in its waiting backend until then or until input arrives.
/// `poll` lets a host loop (Asio's `io_context`, Python's asyncio, a GUI loop) drive it: it runs
/// what is due and returns at once; `next_deadline` says when to call it again and
/// `wake_handle` (or `set_on_wake`) when input from another thread needs it sooner. The order
/// of work is the same in both modes.
///
/// Everything except `post`, `stop`, `set_rate`, `pause`, `resume`, `clock().now()` and
/// releasing a `work_guard` must be called on the loop's thread.
class loop {
 public:
  /// A loop on the system clock (wall time at start, then steady).
  loop();
  /// A loop on `real_clock`, which must outlive it (tests pass an `asp::manual_clock`).
  explicit loop(asp::clock& real_clock);
  /// A loop on `real_clock` that waits with `waiting` instead of its own eventfd backend; both
  /// must outlive it.
  loop(asp::clock& real_clock, asp::backend& waiting);
  ~loop();
  loop(const loop&) = delete;
  loop& operator=(const loop&) = delete;

  /// The virtual time: during a run, the time of the work being run (see the class comment).
  /// Before the first run, the real clock's reading.
  time_point now() const noexcept { return m_started ? m_now : clock().now(); }

  /// The real clock this loop follows.
  asp::clock& clock() const noexcept { return m_remote->clock(); }

  /// Whether the loop has turned live: it has caught up with the real clock at least once.
  bool is_live() const noexcept { return m_live; }

  /// Whether `run` is executing on this loop.
  bool running() const noexcept { return m_running; }

  /// Counters of what the loop did.
  const loop_stats& stats() const noexcept { return m_stats; }

  /// The loop running on this thread, or nullptr.
  static loop* current() noexcept { return detail::t_current_loop; }

  /// Runs work until none is left and no live source is open, until `options.end`, or until
  /// `stop()`. The first exception that escapes user code stops the run; everything pending is
  /// destroyed and `run` throws `asp::run_error` naming the failing callback, task or stream
  /// and the virtual time, with the original exception nested.
  void run(run_options options = {});

  /// Spawns `main`, runs as `run(options)` does, and returns `main`'s value (or rethrows its
  /// exception). Throws std::runtime_error if the run ended before `main` finished.
  template <class T>
  T run(task<T> main, run_options options = {});

  /// For a host loop: runs everything that is due by the clock contract — as one step of `run`
  /// would, in the same order — and returns without blocking. Returns whether the run goes on
  /// (work is pending, or a live source is open); false once it is over, as `run` would return
  /// (nothing left, `options.end` reached, or `stop()`, after which a later `poll` continues).
  /// `options.start` counts on the first call; failures throw asp::run_error as from `run`.
  bool poll(run_options options = {});

  /// For a host loop: the real time at which `poll` has work to run — the earliest pending
  /// work's due time, or its paced time under a replay rate — at or before the real clock's
  /// reading when something is due already or input is waiting; std::nullopt when nothing is
  /// scheduled (wait for `wake_handle` then).
  std::optional<time_point> next_deadline();

  /// For a host loop: a file descriptor that becomes readable when another thread posts work,
  /// pushes into a channel, releases a hold or stops the loop while the host waits; -1 if the
  /// backend has none. Reading it is the backend's business: the next `poll` does.
  int wake_handle() const noexcept { return m_remote->backend().native_handle(); }

  /// For a host loop: calls `hook` from the posting thread when input arrives while the loop
  /// is idle between polls (e.g. a thread-safe post into the host's own loop). Not called for
  /// `stop()`, which must stay async-signal-safe: it only wakes the backend.
  void set_on_wake(std::function<void()> hook) { m_remote->set_on_wake(std::move(hook)); }

  /// Makes `run` return before its next piece of work; pending work stays scheduled for the
  /// next run. Callable from any thread and from a signal handler. A stop requested while no
  /// run is active makes the next run return at once.
  void stop() noexcept {
    m_stop.store(true, std::memory_order_relaxed);
    m_remote->wake();
  }

  /// Changes the replay rate from now on (see run_options::rate): std::nullopt replays as fast
  /// as possible, a positive `rate` paces. The paced timeline re-bases at the real time of the
  /// call, so nothing jumps. Callable from any thread; from another thread it takes effect
  /// before the loop's next piece of work. Throws std::invalid_argument for a rate that is not
  /// positive.
  void set_rate(std::optional<double> rate);

  /// Pauses replay: from now on only work due at or before `now()` runs, until `resume()`.
  /// Callable from any thread.
  void pause();

  /// Resumes a paused replay where it stopped, at the rate it had. Callable from any thread.
  void resume();

  /// Schedules `f(now(), args...)` (or `f(args...)`) after the work already due now.
  template <class F, class... Args>
  timer_handle call_soon(F&& f, Args&&... args) {
    return call_later(duration::zero(), std::forward<F>(f), std::forward<Args>(args)...);
  }

  /// Schedules `f(now() + delay, args...)` at `now() + delay`. Before the first run, `delay`
  /// counts from the run's start time. A coroutine function's task is spawned.
  template <class F, class... Args>
  timer_handle call_later(duration delay, F&& f, Args&&... args) {
    detail::pool_node* node = make_callback(std::forward<F>(f), std::forward<Args>(args)...);
    if (!m_started) return defer(node, delay);
    return schedule(node, detail::saturating_add(m_now, delay));
  }

  /// Schedules `f(when, args...)` at `when`. A `when` earlier than now() runs next in time
  /// order, with now() unchanged, and `f` still receives `when`.
  template <class F, class... Args>
  timer_handle call_at(time_point when, F&& f, Args&&... args) {
    return schedule(make_callback(std::forward<F>(f), std::forward<Args>(args)...), when);
  }

  /// From any thread: runs `f(stamp)` (or `f()`) on the loop, due at `stamp` = the real
  /// clock's reading now. It takes its place in time order (DESIGN §2 rule 6), after every
  /// piece of work due earlier, and wakes the loop if it is waiting. Never dropped: work posted
  /// while no run is active waits for the next run, and counts as known work for its start.
  ///
  /// Posted from the loop's own thread during a run, the work is scheduled at once, as
  /// `call_at(stamp, f)` is. From another thread it waits in an inbox that the loop empties
  /// before it runs its next piece of work, so it takes its place before anything later runs.
  /// A coroutine function's task starts in the work's own slot.
  template <class F>
  void post(F&& f) {
    if (current() == this) {
      call_at(clock().now(), std::forward<F>(f));
    } else {
      m_remote->post(std::nullopt, make_posted(std::forward<F>(f)));
    }
  }

  /// As `post`, due at the source's own time `stamp`.
  template <class F>
  void post_at(time_point stamp, F&& f) {
    if (current() == this) {
      call_at(stamp, std::forward<F>(f));
    } else {
      m_remote->post(stamp, make_posted(std::forward<F>(f)));
    }
  }

  /// As `post` for every callable in `callables`, with one lock and one clock reading: all are
  /// due at the same stamp and run in the range's order. The fastest way in from a producer
  /// thread that has several pieces of work at hand.
  template <class Range>
  void post_batch(Range&& callables) {
    if (current() == this) {
      const time_point stamp = clock().now();
      for (auto&& f : callables) call_at(stamp, std::forward<decltype(f)>(f));
    } else {
      m_remote->post_all(std::forward<Range>(callables),
                         [](auto&& f) { return make_posted(std::forward<decltype(f)>(f)); });
    }
  }

  /// Runs `body` as a task of its own, starting after the work already due now (at the start
  /// of the run when called before it), or at `at` when given. `name` appears in errors.
  template <class T>
  join_handle<T> spawn(task<T> body, std::string name = {}, std::optional<time_point> at = {});

  /// Starts a stream described by `process_stream` (include <asp/stream.hpp>). Its first past
  /// event is scheduled at once, so a stream started before the run counts as work known when
  /// the run begins (DESIGN §2 rule 3).
  template <class Callback, class Past, class Future>
  stream_handle start(stream_spec<Callback, Past, Future> spec);

  /// Keeps the run going while nothing is scheduled (see work_guard).
  work_guard hold() noexcept { return work_guard{*this}; }

  /// What other threads reach of this loop (its inbox and holds); shared with work guards and
  /// channels so that they may outlive it.
  const std::shared_ptr<detail::loop_remote>& remote() const noexcept { return m_remote; }

  // --- For the library's own awaiters and sources: not part of the user API. ---

  /// Schedules `node` at `due`; it must not be pending.
  timer_handle schedule(detail::work_node* node, time_point due) {
    const std::uint64_t seq = m_next_seq++;
    node->m_seq = seq;
    if (m_started && due <= m_now && (m_ready.empty() || !(due < m_ready.back().due))) {
      m_ready.push({due, node});
    } else {
      m_heap.push({due, node});
    }
    return {m_anchor, node, seq};
  }

  /// Schedules the resumption of `h` at `due`.
  timer_handle schedule_resume(std::coroutine_handle<> h, time_point due);

  /// Whether work due at `due` and scheduled now would run before everything already pending,
  /// and may run at once: it is due by the real clock, within the run's end, no stop is
  /// requested and no posted work waits to be taken in. Lets a stream deliver consecutive
  /// events without queueing them.
  bool may_run_next(time_point due) const noexcept {
    if (!due_by_real(due) || due > m_end || m_stop.load(std::memory_order_relaxed)) return false;
    if (m_remote->posts_waiting()) return false;
    if (!m_ready.empty() && !(due < m_ready.front().due)) return false;
    return m_heap.empty() || due < m_heap.top().due;
  }

  /// Moves the virtual clock to `due` (if later) for work run outside the queue.
  void advance_to(time_point due) noexcept {
    if (m_now < due) m_now = due;
    m_current_due = due;
    ++m_stats.runs;
  }

  /// The due time of the piece of work running now (its slot in the order).
  time_point current_due() const noexcept { return m_current_due; }

  /// Records the first failure of user code and stops the run.
  void fail(std::exception_ptr error, std::string where, time_point at) noexcept;

  /// Starts, at once and in the running work's slot, a task that a callback returned; its
  /// failure fails the run, naming `source`.
  template <class T>
  void start_returned(task<T> body, const std::type_info& source);

  void finish_spawned(detail::spawn_state& state) noexcept;
  void cancel_spawned(detail::spawn_state& state);
  void release(detail::work_node* node) noexcept {
    m_pool.release(static_cast<detail::pool_node*>(node));
  }
  void detach_spawned(detail::spawn_state& state) noexcept;

 private:
  friend class timer_handle;
  using posted = detail::posted_fn<loop>;
  struct deferred_item {
    duration delay;
    detail::work_node* node;
  };

  template <class F, class... Args>
  detail::pool_node* make_callback(F&& f, Args&&... args);
  template <class D>
  detail::pool_node* make_node(D&& callable);
  timer_handle defer(detail::work_node* node, duration delay);
  bool cancel(detail::work_node* node, std::uint64_t seq) noexcept;
  template <class F>
  static posted make_posted(F&& f) {
    using C = std::decay_t<F>;
    return posted{[fn = C(std::forward<F>(f))](time_point t, loop& l) mutable {
      if constexpr (is_task_v<detail::callback_result_t<C>>) {
        l.start_returned(detail::call_owned(detail::bound_callback<C>{std::move(fn), {}}, t),
                         typeid(C));
      } else {
        detail::invoke_with_time(fn, t);
      }
    }};
  }
  template <class T>
  detail::spawn_state_of<T>* make_spawned(task<T> body, std::string name);
  enum class step { over, wait };
  void enter(run_options& options);
  void leave();
  void begin(const run_options& options);
  step drain();
  bool due_by_real(time_point due) const noexcept {
    return m_pacing.on ? paced(due) <= m_real : due <= m_real;
  }
  time_point paced(time_point due) const noexcept;
  void apply(const detail::pacing_request& change);
  bool take_posts();
  void turn_live();
  void teardown() noexcept;
  [[noreturn]] void rethrow_failure();
  const detail::entry* peek() noexcept;
  void run_next();

  std::shared_ptr<detail::loop_remote> m_remote;
  detail::loop_anchor* m_anchor;
  time_point m_now{};
  time_point m_current_due{};
  time_point m_real{};
  time_point m_end = time_point::max();
  std::uint64_t m_next_seq = 1;
  detail::entry_ring m_ready;
  detail::entry_heap m_heap;
  bool m_next_from_ready = false;  // set by peek(): where the earliest work is
  std::size_t m_stale = 0;
  detail::node_pool m_pool;
  std::vector<deferred_item> m_deferred;
  detail::spawn_state* m_spawned = nullptr;
  std::uint64_t m_streams = 0;

  bool m_started = false;
  bool m_running = false;
  bool m_live = false;
  bool m_tearing_down = false;
  hook<time_point> m_on_live;
  loop_stats m_stats;

  std::exception_ptr m_error;
  std::string m_error_where;
  time_point m_error_at{};

  std::atomic<bool> m_stop{false};
  time_point m_wait_until = time_point::max();  // set by drain() when it returns step::wait
  std::vector<detail::post_item> m_posts_taken;
  std::vector<detail::pacing_request> m_requests_taken;

  // Replay pacing (rule 9): off, or `rate` from the anchors, or paused.
  struct pacing {
    bool on = false;
    bool paused = false;
    std::optional<double> rate;
    time_point anchor_real{};
    time_point anchor_virtual{};
  } m_pacing;
};

/// The loop running on this thread; throws std::logic_error outside a run.
inline loop& current_loop() {
  loop* l = loop::current();
  if (l == nullptr) throw std::logic_error("asp: no loop is running on this thread");
  return *l;
}

/// The running loop's virtual time.
inline time_point now() {
  return current_loop().now();
}

/// loop::call_soon on the running loop.
template <class F, class... Args>
timer_handle call_soon(F&& f, Args&&... args) {
  return current_loop().call_soon(std::forward<F>(f), std::forward<Args>(args)...);
}

/// loop::call_later on the running loop.
template <class F, class... Args>
timer_handle call_later(duration delay, F&& f, Args&&... args) {
  return current_loop().call_later(delay, std::forward<F>(f), std::forward<Args>(args)...);
}

/// loop::call_at on the running loop.
template <class F, class... Args>
timer_handle call_at(time_point when, F&& f, Args&&... args) {
  return current_loop().call_at(when, std::forward<F>(f), std::forward<Args>(args)...);
}

/// loop::spawn on the running loop.
template <class T>
join_handle<T> spawn(task<T> body, std::string name = {}) {
  return current_loop().spawn(std::move(body), std::move(name));
}

// --- implementation ---

inline bool timer_handle::cancel() noexcept {
  if (m_anchor == nullptr || m_anchor->m_loop == nullptr) return false;
  return m_anchor->m_loop->cancel(m_node, m_seq);
}

inline work_guard::work_guard(loop& l) noexcept : m_remote(l.remote()) {
  m_remote->add_hold();
}

template <class D>
detail::pool_node* loop::make_node(D&& callable) {
  using C = std::decay_t<D>;
  using access = detail::node_access<C>;
  detail::pool_node* node = m_pool.acquire();
  try {
    if constexpr (access::fits) {
      ::new (static_cast<void*>(node->m_storage)) C(std::forward<D>(callable));
    } else {
      ::new (static_cast<void*>(node->m_storage)) C*(new C(std::forward<D>(callable)));
    }
  } catch (...) {
    m_pool.release(node);
    throw;
  }
  node->m_fn = [](detail::work_node* n, detail::work_op op, time_point due, loop& l,
                  std::string* description) {
    switch (op) {
      case detail::work_op::run: {
        struct finish {
          detail::work_node* n;
          ~finish() { access::destroy(n); }
        } guard{n};
        access::get(n)(due, l);
        break;
      }
      case detail::work_op::destroy:
        access::destroy(n);
        break;
      case detail::work_op::describe:
        // Called after a failed run, when the callable is gone: only its type is known.
        *description = C::describe();
        break;
    }
  };
  return node;
}

template <class F, class... Args>
detail::pool_node* loop::make_callback(F&& f, Args&&... args) {
  using bound = detail::bound_callback<std::decay_t<F>, std::decay_t<Args>...>;
  struct callback {
    bound m_bound;
    void operator()(time_point due, loop& l) {
      using R = decltype(m_bound(due));
      if constexpr (is_task_v<R>) {
        // A coroutine lambda's frame refers to the lambda object: the task must own it.
        l.start_returned(detail::call_owned(std::move(m_bound), due), typeid(std::decay_t<F>));
      } else {
        m_bound(due);
      }
    }
    static std::string describe() {
      return "callback " + detail::type_name(typeid(std::decay_t<F>));
    }
  };
  return make_node(callback{bound{std::forward<F>(f), {std::forward<Args>(args)...}}});
}

template <class T>
detail::spawn_state_of<T>* loop::make_spawned(task<T> body, std::string name) {
  auto* state = new detail::spawn_state_of<T>(m_anchor);
  state->m_name = std::move(name);
  detail::root_coroutine root = detail::run_spawned<T>(*this, *state, std::move(body));
  state->m_root = root.m_frame;
  state->m_next = m_spawned;
  if (m_spawned != nullptr) m_spawned->m_prev = state;
  m_spawned = state;
  return state;
}

template <class T>
join_handle<T> loop::spawn(task<T> body, std::string name, std::optional<time_point> at) {
  detail::spawn_state_of<T>* state = make_spawned(std::move(body), std::move(name));
  const std::coroutine_handle<> root = state->m_root;
  if (at) {
    state->m_start = schedule_resume(root, *at);
  } else if (m_started) {
    state->m_start = schedule_resume(root, m_now);
  } else {
    struct start {
      std::coroutine_handle<> m_frame;
      void operator()(time_point, loop&) const { m_frame.resume(); }
      static std::string describe() { return "start of a task"; }
    };
    state->m_start = defer(make_node(start{root}), duration::zero());
  }
  return join_handle<T>{state};
}

template <class T>
void loop::start_returned(task<T> body, const std::type_info& source) {
  join_handle<T> handle{make_spawned(std::move(body), {})};
  handle.m_state->m_type = &source;
  // The callback's work is this task's start (DESIGN §2 rule 2): no second trip through the
  // queue, which would put it behind work scheduled since and due later.
  handle.m_state->m_root.resume();
}

template <class T>
T loop::run(task<T> main, run_options options) {
  join_handle<T> handle = spawn(std::move(main), "main");
  handle.m_state->m_fails_run = true;
  run(std::move(options));
  if (!handle.done()) {
    throw std::runtime_error("asp: the run ended before its main task finished, at " +
                             to_string(now()));
  }
  return handle.result();
}

namespace detail {

template <class T>
root_coroutine run_spawned(loop& l, spawn_state_of<T>& state, task<T> body) {
  try {
    if constexpr (std::is_void_v<T>) {
      co_await std::move(body);
    } else {
      state.m_value.emplace(co_await std::move(body));
    }
  } catch (...) {
    state.m_error = std::current_exception();
  }
  l.finish_spawned(state);
}

}  // namespace detail

template <class T>
T join_handle<T>::result() {
  if (!done()) throw std::logic_error("asp::join_handle::result: the task has not finished");
  return detail::take_result(*m_state);
}

template <class T>
auto join_handle<T>::operator co_await() & noexcept {
  // Holds the task's state, not this handle, while it waits: the handle may be reassigned or
  // dropped meanwhile, and the loop may destroy the waiting joiner after the handle is gone.
  struct awaiter {
    detail::spawn_state_of<T>* m_state;
    bool m_waiting = false;

    explicit awaiter(detail::spawn_state_of<T>* state) noexcept : m_state(state) {}
    awaiter(const awaiter&) = delete;
    awaiter& operator=(const awaiter&) = delete;
    bool await_ready() const noexcept { return m_state->m_done; }
    void await_suspend(std::coroutine_handle<> joiner) {
      if (m_state->m_joiner) throw std::logic_error("asp::join_handle: the task is already joined");
      m_state->m_joiner = joiner;
      ++m_state->m_refs;
      m_waiting = true;
    }
    T await_resume() { return detail::take_result(*m_state); }
    ~awaiter() {
      if (!m_waiting) return;
      // A joiner destroyed while waiting (cancelled) must not be resumed later.
      m_state->m_joiner_resume.cancel();
      m_state->m_joiner = {};
      detail::release_spawned(*m_state);
    }
  };
  if (m_state == nullptr) std::terminate();
  return awaiter{m_state};
}

template <class T>
bool join_handle<T>::cancel() {
  if (m_state == nullptr || m_state->m_done || m_state->owner() == nullptr) return false;
  m_state->owner()->cancel_spawned(*m_state);
  return true;
}

template <class T>
void join_handle<T>::detach() noexcept {
  if (m_state != nullptr) {
    detail::spawn_state* state = std::exchange(m_state, nullptr);
    if (loop* owner = state->owner()) {
      owner->detach_spawned(*state);
    } else {
      detail::release_spawned(*state);
    }
  }
}

}  // namespace asp

#pragma once

#include <asp/backend.hpp>
#include <asp/clock.hpp>
#include <asp/detail/attention.hpp>
#include <asp/detail/make_work.hpp>
#include <asp/detail/remote.hpp>
#include <asp/detail/scheduler.hpp>
#include <asp/error.hpp>
#include <asp/join_handle.hpp>
#include <asp/loop_handle.hpp>
#include <asp/loop_stats.hpp>
#include <asp/run_options.hpp>
#include <asp/task.hpp>
#include <asp/time.hpp>
#include <asp/timer_handle.hpp>

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <typeinfo>
#include <utility>

namespace asp {

class loop;

namespace detail {
struct loop_access;
inline thread_local loop* t_current_loop = nullptr;
}  // namespace detail

/// ASP's event loop: single-threaded, on a virtual clock (docs/contract.md; docs/design.md
/// lists its phases).
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
/// Tasks are spawned with `asp::spawn` (include/asp/spawn.hpp) and streams started with
/// `asp::start` (include/asp/stream.hpp), or both handed to `run(options, work...)`.
///
/// Everything except `post`, `post_at`, `post_batch`, `stop`, `set_rate`, `pause`, `resume`,
/// `clock().now()` and releasing a `work_guard` must be called on the loop's thread.
class loop : private detail::scheduler {
 public:
  /// A loop on the system clock (wall time at start, then steady).
  loop();
  /// A loop on `real_clock`, which must outlive it (tests pass an `asp::manual_clock`).
  explicit loop(asp::clock& real_clock);
  /// A loop on `real_clock` that waits with `waiting` instead of its own eventfd backend; both
  /// must outlive it.
  loop(asp::clock& real_clock, asp::backend& waiting);
  /// Destroys everything still pending: callables, task frames, streams. Handles, guards and
  /// channels that outlive the loop stay safe to use and to destroy.
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

  /// Whether `run` or `poll` is executing on this loop.
  bool running() const noexcept { return m_running; }

  /// Counters of what the loop did.
  const loop_stats& stats() const noexcept { return m_stats; }

  /// Pieces of work scheduled now (timers, wake-ups, the next event of each stream; cancelled
  /// work included until the loop reaches it).
  std::size_t queued() const noexcept { return m_queue.size(); }

  /// The loop running on this thread, or nullptr.
  static loop* current() noexcept { return detail::t_current_loop; }

  /// Runs work until none is left and no live source is open, until `options.end`, or until
  /// `stop()`. The first exception that escapes user code stops the run; everything pending is
  /// destroyed and `run` throws `asp::run_error` naming the failing callback, task or stream
  /// and the virtual time, with the original exception nested.
  void run(run_options options = {});

  /// Starts every piece of `work` — tasks (`asp::task`) and streams (from
  /// `asp::process_stream`), each running on its own — and runs as `run(options)` does: the
  /// original's `asp.run([...], start_time)`.
  template <class Work, class... More>
  void run(run_options options, Work work, More... more) {
    start_detached(std::move(work));
    (start_detached(std::move(more)), ...);
    run(std::move(options));
  }

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
  /// backend has none. The next `poll` consumes the wake-up.
  int wake_handle() const noexcept { return m_remote->backend().native_handle(); }

  /// For a host loop: calls `hook` from the posting thread when input arrives while the loop
  /// is idle between polls (e.g. a thread-safe post into the host's own loop). Not called for
  /// `stop()`, which must stay async-signal-safe: it only wakes the backend.
  void set_on_wake(std::function<void()> hook) { m_remote->set_on_wake(std::move(hook)); }

  /// Calls `hook` on the loop's thread when a run (or poll) ends because of `stop()`, just
  /// before it returns: the place to close sources and sinks after a graceful stop (see
  /// asp::asio::stop_on_signals). Not called when a run ends otherwise or fails. Work it
  /// schedules stays pending for the next run; an exception it throws fails the run as
  /// "on_stop". Replaces the previous hook; an empty one removes it.
  void set_on_stop(std::function<void()> hook) { m_on_stop = std::move(hook); }

  /// Makes `run` return before its next piece of work; pending work stays scheduled for the
  /// next run. Callable from any thread and from a signal handler. A stop requested while no
  /// run is active makes the next run return at once.
  void stop() noexcept {
    m_attention.fetch_or(detail::attention::stop_bit, std::memory_order_relaxed);
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

  /// Schedules `f(now() + delay, args...)` at `now() + delay` (saturating: `duration::max()`
  /// is never). Before the first run, `delay` counts from the run's start time. A coroutine
  /// function's task starts in this work's slot.
  template <class F, class... Args>
  timer_handle call_later(duration delay, F&& f, Args&&... args) {
    detail::pool_node* node = make_callback(std::forward<F>(f), std::forward<Args>(args)...);
    if (!m_started) return defer(node, delay);
    return schedule(node, saturating_add(m_now, delay));
  }

  /// Schedules `f(when, args...)` at `when`. A `when` earlier than now() runs next in time
  /// order, with now() unchanged, and `f` still receives `when`.
  template <class F, class... Args>
  timer_handle call_at(time_point when, F&& f, Args&&... args) {
    return schedule(make_callback(std::forward<F>(f), std::forward<Args>(args)...), when);
  }

  /// From any thread: runs `f(stamp)` (or `f()`) on the loop, due at `stamp` = the real
  /// clock's reading now. It takes its place in time order (contract C6), after every
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
      call_at(read_real(), std::forward<F>(f));
    } else {
      m_remote->post(std::nullopt, detail::make_posted(std::forward<F>(f)));
    }
  }

  /// As `post`, due at the source's own time `stamp`.
  template <class F>
  void post_at(time_point stamp, F&& f) {
    if (current() == this) {
      call_at(stamp, std::forward<F>(f));
    } else {
      m_remote->post(stamp, detail::make_posted(std::forward<F>(f)));
    }
  }

  /// As `post` for every callable in `callables`, with one clock reading and one claim of the
  /// inbox's slots: all are due at the same stamp and run in the range's order. The fastest way
  /// in from a producer thread that has several pieces of work at hand.
  template <class Range>
  void post_batch(Range&& callables) {
    if (current() == this) {
      const time_point stamp = read_real();
      for (auto&& f : callables) call_at(stamp, std::forward<decltype(f)>(f));
    } else {
      m_remote->post_all(std::forward<Range>(callables), [](auto&& f) {
        return detail::make_posted(std::forward<decltype(f)>(f));
      });
    }
  }

  /// Keeps the run going while nothing is scheduled (see work_guard).
  work_guard hold() noexcept { return work_guard{*this}; }

  // --- For source authors: what a source needs of the loop beyond the calls above
  // (docs/concepts.md, "Writing a source"). The library's own sockets use exactly these.

  /// The due time of the piece of work running now. Inside work posted from another thread
  /// (`post`, a `loop_handle`), it is the work's arrival stamp: the time a live source gives
  /// the event that the work hands over (contract C6). It differs from `now()` only when the
  /// work is due earlier than the work before it ran.
  time_point current_due() const noexcept { return m_current_due; }

  /// A handle through which other threads post to this loop, and learn that it is gone.
  loop_handle handle() noexcept { return loop_handle{*this}; }

  /// On the loop's thread: fails the run as an exception escaping user code does. The run stops
  /// before its next piece of work and throws asp::run_error naming `context` and the virtual
  /// time now, with `error` nested. Only the first failure of a run counts.
  /// A null `error` fails the run with std::invalid_argument, so that it never ends silently.
  void fail_run(std::exception_ptr error, std::string context) noexcept;

  /// On the loop's thread, during a run: starts `body` in the slot of the work running now and
  /// runs it to its first suspension, as the task a coroutine callback returns starts (a
  /// failure of it fails the run). For a binding whose callbacks learn only when called whether
  /// they start a task (a Python callable). `source` is the type of what made it, named in
  /// errors.
  void start_in_slot(task<void> body, const std::type_info& source);

 private:
  friend struct detail::loop_access;
  friend class loop_handle;
  friend class timer_handle;
  friend class work_guard;
  friend void detail::finish_spawned(detail::spawn_state& state) noexcept;
  friend bool detail::cancel_spawned(detail::spawn_state& state);
  friend void detail::detach_spawned(detail::spawn_state& state) noexcept;
  // Spawned tasks (asp::spawn, include/asp/spawn.hpp): started at `at`, or after the work due
  // now (at the run's start before it).
  template <class T>
  join_handle<T> spawn_task(task<T> body, std::string name, std::optional<time_point> at);
  // What run(options, work...) does with each piece of work: a task is spawned and a stream
  // (or anything with `start_detached(loop&) &&`) starts itself, both detached.
  template <class T>
  void start_detached(task<T> body) {
    spawn_task(std::move(body), {}, std::nullopt).detach();
  }
  template <class Work>
  requires requires(Work w, loop& l) { std::move(w).start_detached(l); }
  void start_detached(Work work) { std::move(work).start_detached(*this); }
  void finish_spawned(detail::spawn_state& state) noexcept;
  void cancel_spawned(detail::spawn_state& state);
  void detach_spawned(detail::spawn_state& state) noexcept;

  // Running (src/loop.cpp).
  void enter(run_options& options);
  void leave();
  void begin(const run_options& options);
  step drain();
  void run_next();
  bool take_posts();
  void turn_live();
  void stopped();
  void fail(std::exception_ptr error, std::string where, time_point at) noexcept;
  void teardown() noexcept;
  void apply(const detail::pacing_request& change);
  void mark_pacing() noexcept;
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

// --- implementation ---

inline work_guard::work_guard(loop& l) noexcept : m_remote(l.m_remote) {
  m_remote->add_hold();
}

inline loop_handle::loop_handle(loop& l) noexcept : m_remote(l.m_remote) {}

template <class F>
void loop_handle::post(F&& f) {
  if (!m_remote) detail::throw_empty_loop_handle();
  m_remote->post(std::nullopt, detail::make_posted(std::forward<F>(f)));
}

template <class F>
void loop_handle::post_at(time_point stamp, F&& f) {
  if (!m_remote) detail::throw_empty_loop_handle();
  m_remote->post(stamp, detail::make_posted(std::forward<F>(f)));
}

template <class T>
join_handle<T> loop::spawn_task(task<T> body, std::string name, std::optional<time_point> at) {
  join_handle<T> handle{make_spawned(std::move(body), std::move(name))};
  schedule_start(*handle.m_state, at);
  return handle;
}

template <class T>
T loop::run(task<T> main, run_options options) {
  join_handle<T> handle = spawn_task(std::move(main), "main", std::nullopt);
  handle.m_state->m_fails_run = true;
  run(std::move(options));
  if (!handle.done()) {
    throw std::runtime_error("asp: the run ended before its main task finished, at " +
                             to_string(now()));
  }
  return handle.result();
}

}  // namespace asp

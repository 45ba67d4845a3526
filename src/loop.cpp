#include <asp/loop.hpp>
#include <asp/spawn.hpp>

#include <algorithm>
#include <chrono>
#include <stdexcept>

namespace asp {

// The scheduling steps (include/asp/detail/scheduler.hpp) sit beside the run phases that call
// them: on the replay path, resume_at and run_next alternate for every event of a stream that
// waits its turn, and code kept together runs measurably faster there (BENCHMARKS.md).
namespace detail {

scheduler::scheduler(std::unique_ptr<asp::clock> own_clock, asp::clock* clock,
                     std::unique_ptr<asp::backend> own_backend, asp::backend* backend)
    : m_remote(std::make_shared<loop_remote>(std::move(own_clock), clock, std::move(own_backend),
                                             backend, m_attention)) {}

namespace {
struct resume {
  std::coroutine_handle<> m_frame;
  void operator()(time_point, loop&) const { m_frame.resume(); }
  static std::string describe() { return "coroutine"; }
};
}  // namespace

work_ticket scheduler::resume_at(std::coroutine_handle<> h, time_point due) {
  work_node* node = make_node(resume{h});
  return {node, m_queue.push(node, due, m_started ? m_now : time_point::min())};
}

work_ticket scheduler::resume_in_turn(std::coroutine_handle<> h, time_point due) {
  work_node* node = make_node(resume{h});
  return {node, m_queue.push_in_turn(node, due, m_started ? m_now : time_point::min())};
}

timer_handle scheduler::schedule_resume(std::coroutine_handle<> h, time_point due) {
  const detail::work_ticket ticket = resume_at(h, due);
  return {m_anchor, ticket.node, ticket.seq};
}

timer_handle scheduler::defer(work_node* node, duration delay) {
  const std::uint64_t seq = m_queue.number(node);
  m_deferred.push_back({delay, node});
  return {m_anchor, node, seq};
}

void scheduler::schedule_start(spawn_state& state, std::optional<time_point> at) {
  const std::coroutine_handle<> root = state.m_root;
  if (at) {
    state.m_start = schedule_resume(root, *at);
  } else if (m_started) {
    state.m_start = schedule_resume(root, m_now);
  } else {
    struct start {
      std::coroutine_handle<> m_frame;
      void operator()(time_point, loop&) const { m_frame.resume(); }
      static std::string describe() { return "start of a task"; }
    };
    state.m_start = defer(make_node(start{root}), duration::zero());
  }
}

[[noreturn]] void throw_empty_loop_handle() {
  throw std::logic_error("asp: work posted through an empty loop_handle (made by default)");
}

}  // namespace detail

namespace {

// Restores the thread's current loop and the running flag however run() leaves.
struct running_scope {
  loop*& current;
  loop* previous;
  bool& running;
  running_scope(loop* self, bool& flag)
      : current(detail::t_current_loop), previous(detail::t_current_loop), running(flag) {
    current = self;
    running = true;
  }
  ~running_scope() {
    current = previous;
    running = false;
  }
};

}  // namespace

loop::loop()
    : scheduler(std::make_unique<system_clock>(), nullptr, std::make_unique<eventfd_backend>(),
                nullptr) {
  m_anchor = new detail::loop_anchor{this, &m_queue};
}

loop::loop(asp::clock& real_clock)
    : scheduler(nullptr, &real_clock, std::make_unique<eventfd_backend>(), nullptr) {
  m_anchor = new detail::loop_anchor{this, &m_queue};
}

loop::loop(asp::clock& real_clock, asp::backend& waiting)
    : scheduler(nullptr, &real_clock, nullptr, &waiting) {
  m_anchor = new detail::loop_anchor{this, &m_queue};
}

loop::~loop() {
  teardown();
  // Handles, join states, guards and channels may outlive the loop: they now see it gone.
  m_anchor->m_loop = nullptr;
  detail::release(m_anchor);
  m_remote->close();
}

bool loop::take_posts() {
  struct posted_work {
    posted m_fn;
    void operator()(time_point due, loop& l) { m_fn(due, l); }
    static std::string describe() { return "posted callback"; }
  };
  static_assert(sizeof(posted_work) <= detail::pool_node::inline_size);
  std::uint64_t taken = 0;
  const bool any = m_remote->take(m_requests_taken, [&](time_point stamp, posted&& fn) {
    // One thread's posts arrive in stamp order, so they usually append to the sorted ring.
    m_queue.push(make_node(posted_work{std::move(fn)}), stamp, time_point::max());
    ++taken;
  });
  if (!any) return false;
  for (const detail::pacing_request& change : m_requests_taken) apply(change);
  m_requests_taken.clear();
  m_stats.posts += taken;
  return taken > 0;
}

void loop::begin(const run_options& options) {
  m_real = clock().now();
  // Work posted before the run is known work: it counts for the default start (contract C3).
  take_posts();
  if (!m_started) {
    time_point start = m_real;
    if (options.start) {
      start = *options.start;
    } else {
      if (const detail::entry* first = m_queue.peek()) start = std::min(start, first->due);
    }
    m_now = start;
    m_started = true;
    for (const deferred_item& d : m_deferred) {
      if (d.node->cancelled()) {
        m_queue.release(d.node);
      } else {
        m_queue.push_numbered(d.node, saturating_add(start, d.delay));
      }
    }
    m_deferred.clear();
  } else if (options.start && *options.start > m_now) {
    m_now = *options.start;
  }
  if (options.rate && !m_pacer.pacing_at(options.rate)) {
    if (!(*options.rate > 0)) throw std::invalid_argument("asp: the replay rate must be positive");
    m_pacer.start(*options.rate, m_real, m_now);
    mark_pacing();
  }
}

void loop::enter(run_options& options) {
  if (m_failure) {
    // A detached task failed between runs: that failure is this run's outcome.
    teardown();
    m_failure.rethrow();
  }
  m_on_live = std::move(options.on_live);
  m_end = options.end.value_or(time_point::max());
  if (options.busy_poll < std::chrono::nanoseconds::zero()) {
    throw std::invalid_argument("asp: run_options::busy_poll must not be negative");
  }
  m_busy_poll = options.busy_poll;
  m_remote->busy();
  begin(options);
}

// After a run or a poll, however it went: a failure is thrown here, after everything pending
// was destroyed.
void loop::leave() {
  if (m_failure) {
    teardown();
    m_failure.rethrow();
  }
}

void loop::run(run_options options) {
  // A stop requested before the run (from another thread, say) ends it at once; the request is
  // consumed when the run returns, whichever way it returns.
  struct stop_scope {
    loop& self;
    ~stop_scope() { self.consume_stop(); }
  } consume{*this};
  if (m_running) throw std::logic_error("asp::loop::run: the loop is already running");
  running_scope scope(this, m_running);
  enter(options);
  while (drain() == step::wait) {
    ++m_stats.waits;
    if (m_busy_poll > std::chrono::nanoseconds::zero() && poll_for_input()) continue;
    if (m_remote->idle()) {
      if (!stop_requested()) {
        clock().wait_until(m_wait_until, m_remote->backend());
      }
      m_remote->busy();
    }
  }
  stopped();
  leave();
}

bool loop::poll(run_options options) {
  if (m_running) throw std::logic_error("asp::loop::poll: the loop is already running");
  running_scope scope(this, m_running);
  // Consume the wake-up that brought the host here, so that its descriptor goes quiet.
  m_remote->backend().wait(duration::zero());
  enter(options);
  const step next = drain();
  stopped();
  consume_stop();  // a stop ends this poll, as it ends a run
  leave();
  if (next == step::over) return false;
  // The host waits now: posts from here on must wake it.
  m_remote->idle();
  return true;
}

std::optional<time_point> loop::next_deadline() {
  if (!m_started || m_remote->posts_waiting()) return clock().now();
  const detail::entry* next = m_queue.peek();
  const time_point until = std::min(next != nullptr ? next->due : time_point::max(), m_end);
  if (until == time_point::max()) return std::nullopt;
  return m_pacer.on() ? m_pacer.paced(until, m_now) : until;
}

void loop::run_next() {
  // Called right after peek(), which chose the queue.
  const detail::entry e = m_queue.pop();
  detail::work_node* node = e.node;
  node->m_seq = 0;
  if (m_now < e.due) m_now = e.due;
  m_current_due = e.due;
  ++m_stats.runs;
  const detail::work_node::fn_type fn = node->m_fn;
  try {
    fn(node, detail::work_op::run, e.due, *this, nullptr);
  } catch (...) {
    std::string where;
    fn(node, detail::work_op::describe, e.due, *this, &where);
    if (where.empty()) where = "callback";
    fail(std::current_exception(), where + " due at " + to_string(e.due), m_now);
  }
  m_queue.release(node);
}

// Runs everything that is due (docs/design.md, phase 2). Returns step::wait, with the real
// time to wait until in m_wait_until, when the earliest work lies ahead; step::over when the
// run is over (nothing left, the end reached, or a stop).
loop::step loop::drain() {
  const detail::loop_remote& remote = *m_remote;
  for (;;) {
    // One load tells of a stop and of input posted by other threads, which takes its place
    // before anything later runs (contract C6).
    const unsigned attention = m_attention.load(std::memory_order_relaxed);
    if (attention != 0) {
      if ((attention & detail::attention::stop_bit) != 0) return step::over;
      if ((attention & detail::attention::input_bit) != 0) take_posts();
    }
    const detail::entry* next = m_queue.peek();
    // The replay path: no clock read, no system call, no lock. (Under pacing, the attention
    // word is never zero.)
    if (next != nullptr && next->due <= m_end &&
        (attention == 0 ? next->due <= m_real : due_by_real(next->due))) {
      run_next();
      continue;
    }

    // The slow path: read the real clock, take in posted work, and go on, wait, or end.
    m_real = clock().now();
    take_posts();
    next = m_queue.peek();
    const time_point due = next != nullptr ? next->due : time_point::max();
    if (next != nullptr && due <= m_end && due_by_real(due)) continue;

    if (due > m_end || next == nullptr) {
      if (due_by_real(m_end)) {
        if (m_end != time_point::max() && m_now < m_end) m_now = m_end;
        return step::over;
      }
      if (!remote.held()) {
        // The last hold went: what its holder posted before letting go is in the inbox now.
        if (take_posts()) continue;
        return step::over;
      }
    }
    if (due > m_real) {
      // The earliest work lies ahead of the real clock: the loop is live.
      if (!m_live) {
        turn_live();
        // on_live may have scheduled work due now: take it before waiting.
        continue;
      }
      // While the loop waits, virtual time follows the real clock.
      if (m_now < m_real) m_now = m_real;
    }
    // Otherwise pacing holds the work back; the loop is not live and now() stays.
    if (stop_requested()) return step::over;
    const time_point until = std::min(due, m_end);
    m_wait_until = m_pacer.on() ? m_pacer.paced(until, m_now) : until;
    return step::wait;
  }
}

void loop::set_rate(std::optional<double> rate) {
  if (rate && !(*rate > 0)) throw std::invalid_argument("asp: the replay rate must be positive");
  if (current() == this) {
    apply({detail::pacing_request::kind::rate, rate, clock().now()});
  } else {
    m_remote->request(detail::pacing_request::kind::rate, rate);
  }
}

void loop::pause() {
  if (current() == this) {
    apply({detail::pacing_request::kind::pause, {}, clock().now()});
  } else {
    m_remote->request(detail::pacing_request::kind::pause);
  }
}

void loop::resume() {
  if (current() == this) {
    apply({detail::pacing_request::kind::resume, {}, clock().now()});
  } else {
    m_remote->request(detail::pacing_request::kind::resume);
  }
}

// Re-bases the paced timeline at the real time of the change, where it then stands, so that
// nothing jumps: (anchor_real, anchor_virtual) becomes (change.at, position at change.at).
void loop::apply(const detail::pacing_request& change) {
  m_pacer.apply(change, m_now);
  mark_pacing();
}

void loop::mark_pacing() noexcept {
  if (m_pacer.on()) {
    m_attention.fetch_or(detail::attention::pacing_bit, std::memory_order_relaxed);
  } else {
    m_attention.fetch_and(~detail::attention::pacing_bit, std::memory_order_relaxed);
  }
}

void loop::turn_live() {
  if (m_now < m_real) m_now = m_real;
  m_live = true;
  if (!m_on_live) return;
  try {
    task<void> body = m_on_live(m_now);
    if (body.valid()) spawn(*this, std::move(body), "on_live callback").detach();
  } catch (...) {
    fail(std::current_exception(), "on_live callback", m_now);
  }
}

// A run or poll ends: if a stop ended it (not a failure), the on_stop hook runs now.
void loop::stopped() {
  if (!stop_requested() || m_failure || !m_on_stop) return;
  try {
    m_on_stop();
  } catch (...) {
    fail(std::current_exception(), "on_stop", m_now);
  }
}

void loop::fail_run(std::exception_ptr error, std::string context) noexcept {
  if (!error) {
    error = std::make_exception_ptr(
        std::invalid_argument("asp::loop::fail_run was given no exception"));
  }
  fail(std::move(error), std::move(context), now());
}

void loop::fail(std::exception_ptr error, std::string where, time_point at) noexcept {
  if (m_tearing_down) return;
  m_failure.record(std::move(error), std::move(where), at);
  m_attention.fetch_or(detail::attention::stop_bit, std::memory_order_relaxed);
}

void loop::teardown() noexcept {
  m_tearing_down = true;
  // Destroying a task's frames may schedule or cancel other work; repeat until nothing is left.
  for (;;) {
    if (detail::spawn_state* state = m_tasks.any()) {
      cancel_spawned(*state);
      continue;
    }
    if (m_queue.destroy_one(*this)) continue;
    if (!m_deferred.empty()) {
      const deferred_item d = m_deferred.back();
      m_deferred.pop_back();
      if (!d.node->cancelled()) {
        d.node->m_seq = 0;
        d.node->m_fn(d.node, detail::work_op::destroy, time_point{}, *this, nullptr);
      }
      m_queue.release(d.node);
      continue;
    }
    break;
  }
  m_tearing_down = false;
}

// Off the replay path, at the end of the file (see the note at the top).
namespace detail {

bool scheduler::poll_for_input() noexcept {
  if (!m_remote->quiet_for_polling()) return true;
  constexpr unsigned wanted = attention::input_bit | attention::stop_bit;
  const auto until = std::chrono::steady_clock::now() + m_busy_poll;
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if ((m_attention.load(std::memory_order_acquire) & wanted) != 0) return true;
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    }
    // What else ends a wait: the last hold let go, the backend's own input (an io_context's
    // handlers run here), the real clock reaching the next due work.
    if (!m_remote->held() || m_remote->backend().wait(duration::zero())) return true;
    if (m_remote->clock().now() >= m_wait_until) return true;
    if (std::chrono::steady_clock::now() >= until) return false;
  }
}

}  // namespace detail

}  // namespace asp

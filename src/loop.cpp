#include <asp/loop.hpp>

#include <cxxabi.h>

#include <algorithm>
#include <cstdlib>

namespace asp {

namespace detail {

std::string type_name(const std::type_info& type) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> demangled(
      abi::__cxa_demangle(type.name(), nullptr, nullptr, &status), std::free);
  return status == 0 && demangled ? std::string(demangled.get()) : std::string(type.name());
}

std::string spawn_state::describe() const {
  if (!m_name.empty()) return "task '" + m_name + "'";
  if (m_type != nullptr) return "task returned by callback " + type_name(*m_type);
  return "unnamed task";
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
    : m_remote(std::make_shared<detail::loop_remote>(std::make_unique<system_clock>())),
      m_anchor(new detail::loop_anchor{this}) {}

loop::loop(asp::clock& real_clock)
    : m_remote(std::make_shared<detail::loop_remote>(real_clock)),
      m_anchor(new detail::loop_anchor{this}) {}

loop::~loop() {
  teardown();
  // Handles, join states, guards and channels may outlive the loop: they now see it gone.
  m_anchor->m_loop = nullptr;
  detail::release(m_anchor);
  m_remote->close();
}

timer_handle loop::schedule_resume(std::coroutine_handle<> h, time_point due) {
  struct resume {
    std::coroutine_handle<> m_frame;
    void operator()(time_point, loop&) const { m_frame.resume(); }
    static std::string describe() { return "coroutine"; }
  };
  return schedule(make_node(resume{h}), due);
}

timer_handle loop::defer(detail::work_node* node, duration delay) {
  const std::uint64_t seq = m_next_seq++;
  node->m_seq = seq;
  m_deferred.push_back({delay, node});
  return {m_anchor, node, seq};
}

bool loop::cancel(detail::work_node* node, std::uint64_t seq) noexcept {
  if (node == nullptr || seq == 0 || node->m_seq != seq || node->cancelled()) return false;
  node->m_fn(node, detail::work_op::destroy, time_point{}, *this, nullptr);
  node->m_fn = &detail::cancelled_work;
  // Cancelled entries stay in the queues until they surface; compact when they dominate, so
  // a service that arms and cancels timeouts forever keeps bounded queues.
  if (++m_stale > 1024 && m_stale * 2 > m_heap.size() + m_ready.size()) {
    const auto dead = [this](const detail::entry& e) {
      if (!e.stale()) return false;
      release(e.node);
      return true;
    };
    m_heap.remove_if(dead);
    m_ready.remove_if(dead);
    m_stale = 0;
  }
  return true;
}

bool loop::take_posts() {
  if (!m_remote->take(m_posts_taken)) return false;
  struct posted_work {
    posted m_fn;
    void operator()(time_point due, loop& l) { m_fn(due, l); }
    static std::string describe() { return "posted callback"; }
  };
  static_assert(sizeof(posted_work) <= detail::pool_node::inline_size);
  for (detail::post_item& item : m_posts_taken) {
    // Posts arrive in stamp order, so they usually append to the sorted ring.
    detail::work_node* node = make_node(posted_work{std::move(item.fn)});
    node->m_seq = m_next_seq++;
    if (m_ready.empty() || !(item.stamp < m_ready.back().due)) {
      m_ready.push({item.stamp, node});
    } else {
      m_heap.push({item.stamp, node});
    }
  }
  const bool any = !m_posts_taken.empty();
  m_posts_taken.clear();
  return any;
}

void loop::begin(const run_options& options) {
  m_real = clock().now();
  // Work posted before the run is known work: it counts for the default start (rule 3).
  take_posts();
  if (!m_started) {
    time_point start = m_real;
    if (options.start) {
      start = *options.start;
    } else {
      if (peek() != nullptr) start = std::min(start, peek()->due);
    }
    m_now = start;
    m_started = true;
    for (const deferred_item& d : m_deferred) {
      if (d.node->cancelled()) {
        release(d.node);
      } else {
        m_heap.push({detail::saturating_add(start, d.delay), d.node});
      }
    }
    m_deferred.clear();
  } else if (options.start && *options.start > m_now) {
    m_now = *options.start;
  }
}

void loop::run(run_options options) {
  if (m_running) throw std::logic_error("asp::loop::run: the loop is already running");
  running_scope scope(this, m_running);
  // A stop requested before the run (from another thread, say) ends it at once; the request is
  // consumed when the run returns, whichever way it returns.
  struct consume_stop {
    std::atomic<bool>& flag;
    ~consume_stop() { flag.store(false, std::memory_order_relaxed); }
  } stop_scope{m_stop};
  if (m_error) {
    // A detached task failed between runs: that failure is this run's outcome.
    teardown();
    rethrow_failure();
  }
  m_on_live = std::move(options.on_live);
  m_end = options.end.value_or(time_point::max());
  begin(options);
  dispatch();
  if (m_error) {
    teardown();
    rethrow_failure();
  }
}

const detail::entry* loop::peek() noexcept {
  while (!m_ready.empty() && m_ready.front().stale()) {
    release(m_ready.pop().node);
    if (m_stale > 0) --m_stale;
  }
  while (!m_heap.empty() && m_heap.top().stale()) {
    release(m_heap.pop().node);
    if (m_stale > 0) --m_stale;
  }
  m_next_from_ready =
      !m_ready.empty() && (m_heap.empty() || detail::before(m_ready.front(), m_heap.top()));
  if (m_next_from_ready) return &m_ready.front();
  return m_heap.empty() ? nullptr : &m_heap.top();
}

void loop::dispatch() {
  const detail::loop_remote& remote = *m_remote;
  for (;;) {
    if (m_stop.load(std::memory_order_relaxed)) return;
    // Input posted by other threads takes its place before anything later runs (rule 6).
    if (remote.posts_waiting()) take_posts();
    const detail::entry* next = peek();
    if (next != nullptr && next->due <= m_real && next->due <= m_end) {
      run_next();
    } else if (!refresh()) {
      return;
    }
  }
}

void loop::run_next() {
  // Called right after peek(), which chose the queue.
  const detail::entry e = m_next_from_ready ? m_ready.pop() : m_heap.pop();
  // The next piece of work is probably cold (scheduled long ago): fetch it while this one runs.
  if (!m_heap.empty()) __builtin_prefetch(m_heap.top().node);
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
  release(node);
}

// The slow path, taken when nothing is due by the cached real time: read the real clock, take
// in posted work, and either go on, wait, or end the run. Returns false when the run is over.
bool loop::refresh() {
  m_real = clock().now();
  take_posts();
  const detail::entry* next = peek();
  const time_point due = next != nullptr ? next->due : time_point::max();
  if (due <= m_real && due <= m_end) return true;

  const bool input_possible = m_remote->held();
  if (due > m_end || next == nullptr) {
    if (m_end <= m_real) {
      if (m_end != time_point::max() && m_now < m_end) m_now = m_end;
      return false;
    }
    if (!input_possible) return false;
  }

  if (!m_live) {
    turn_live();
    // on_live may have scheduled work due now: take it before waiting.
    return true;
  }
  // While the loop waits, virtual time follows the real clock.
  if (m_now < m_real) m_now = m_real;
  if (m_stop.load(std::memory_order_relaxed)) return false;
  ++m_stats.waits;
  m_remote->wait_until(std::min(due, m_end), m_stop);
  return true;
}

void loop::turn_live() {
  if (m_now < m_real) m_now = m_real;
  m_live = true;
  if (!m_on_live) return;
  try {
    task<void> body = m_on_live(m_now);
    if (body.valid()) spawn(std::move(body), "on_live callback").detach();
  } catch (...) {
    fail(std::current_exception(), "on_live callback", m_now);
  }
}

void loop::fail(std::exception_ptr error, std::string where, time_point at) noexcept {
  if (m_tearing_down) return;
  if (!m_error) {
    m_error = std::move(error);
    m_error_where = std::move(where);
    m_error_at = at;
  }
  m_stop.store(true, std::memory_order_relaxed);
}

void loop::rethrow_failure() {
  const std::exception_ptr error = std::exchange(m_error, nullptr);
  const std::string where = std::move(m_error_where);
  const std::string prefix = "asp: " + where + ", at virtual time " + to_string(m_error_at) + ": ";
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    throw run_error(where, m_error_at, prefix + e.what());
  } catch (...) {
    throw run_error(where, m_error_at, prefix + "an exception not derived from std::exception");
  }
}

void loop::teardown() noexcept {
  m_tearing_down = true;
  // Destroying a task's frames may schedule or cancel other work; repeat until nothing is left.
  for (;;) {
    if (m_spawned != nullptr) {
      cancel_spawned(*m_spawned);
      continue;
    }
    if (peek() != nullptr) {
      const detail::entry e = m_next_from_ready ? m_ready.pop() : m_heap.pop();
      e.node->m_seq = 0;
      e.node->m_fn(e.node, detail::work_op::destroy, e.due, *this, nullptr);
      release(e.node);
      continue;
    }
    if (!m_deferred.empty()) {
      const deferred_item d = m_deferred.back();
      m_deferred.pop_back();
      if (!d.node->cancelled()) {
        d.node->m_seq = 0;
        d.node->m_fn(d.node, detail::work_op::destroy, time_point{}, *this, nullptr);
      }
      release(d.node);
      continue;
    }
    break;
  }
  m_stale = 0;
  m_tearing_down = false;
}

void loop::finish_spawned(detail::spawn_state& state) noexcept {
  state.m_done = true;
  state.m_root = {};
  if (state.m_prev != nullptr) state.m_prev->m_next = state.m_next;
  if (state.m_next != nullptr) state.m_next->m_prev = state.m_prev;
  if (m_spawned == &state) m_spawned = state.m_next;
  state.m_prev = state.m_next = nullptr;
  if (state.m_joiner && !m_tearing_down) {
    try {
      state.m_joiner_resume = schedule_resume(state.m_joiner, m_now);
    } catch (...) {
      fail(std::current_exception(), "resuming the joiner of " + state.describe(), m_now);
    }
  } else if (state.m_error && (state.m_detached || state.m_fails_run)) {
    try {
      std::rethrow_exception(state.m_error);
    } catch (const cancelled&) {
    } catch (...) {
      fail(state.m_error, state.describe(), m_now);
    }
  }
  detail::release_spawned(state);
}

void loop::cancel_spawned(detail::spawn_state& state) {
  if (state.m_done) return;
  state.m_start.cancel();
  const std::coroutine_handle<> root = state.m_root;
  state.m_refs += 1;  // keep the state while its frames go
  root.destroy();
  state.m_error = std::make_exception_ptr(cancelled{});
  finish_spawned(state);
  detail::release_spawned(state);
}

void loop::detach_spawned(detail::spawn_state& state) noexcept {
  state.m_detached = true;
  if (state.m_done && state.m_error && !state.m_observed) {
    try {
      std::rethrow_exception(state.m_error);
    } catch (const cancelled&) {
    } catch (...) {
      fail(state.m_error, state.describe(), now());
    }
  }
  detail::release_spawned(state);
}

}  // namespace asp

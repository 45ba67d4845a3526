// The clock contract (docs/contract.md) against a reference model, on random programs.
//
// Each program mixes past streams with ties (plain and coroutine callbacks, vector and lazy
// sources), channels fed with source times, call_at / call_later / call_soon into the past and
// the future, coroutine callbacks, spawns, sleeps, joins, cancellations, streams started from
// callbacks, posts from the loop's thread and from other threads, stops and reruns. The program
// runs on the real loop (manual clock) and on a small model of the contract — a sorted set of
// (due, sequence) and nothing else — and the two traces must be identical, entry for entry.
//
// ASP_PROPERTY_PROGRAMS=n runs n programs (default 2000; a long run takes a million), and
// ASP_PROPERTY_SEED=s replays the one program with seed s. A failure prints its seed.
#include <asp/asp.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <deque>
#include <functional>
#include <limits>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace asp::testing;
using ns = std::int64_t;  // nanoseconds after the program's origin

// ---------------------------------------------------------------------------------------------
// Programs

enum class op_kind {
  call_at,         // child at an absolute time
  call_later,      // child after a delay
  call_soon,       // child now
  post_at_local,   // loop.post_at from the loop's thread
  post_local,      // loop.post from the loop's thread (stamped with the real clock)
  post_at_remote,  // loop.post_at from another thread, joined before the callback goes on
  spawn,           // a task (coroutine child), keeping its handle
  cancel,          // cancel the handle made by op `target`
  start_stream,    // start stream `target`
  push,            // push (time, child) into channel `target`
  close,           // close channel `target`
  stop,            // loop.stop(); the test runs again
};

struct op {
  op_kind kind;
  ns time = 0;  // absolute time, or delay
  int child = -1;
  int target = -1;
};

enum class await_kind { none, sleep, join };

struct segment {
  std::vector<int> ops;
  await_kind await = await_kind::none;  // after the ops; none ends the coroutine
  ns delay = 0;
  int join_op = -1;
};

struct node {
  bool coro = false;
  std::vector<segment> segments;  // a plain node has one segment without await
};

struct stream_def {
  std::vector<std::pair<ns, int>> past;  // (time, node), sorted, with ties
  int channel = -1;                      // live source, or none
  bool coro = false;                     // callback kind of every event
  bool lazy = false;                     // past from an asp::generator instead of a vector
};

struct program {
  std::vector<node> nodes;
  std::vector<op> ops;
  std::vector<stream_def> streams;
  int channels = 0;
  std::vector<int> setup;  // ops run before the first run
  std::optional<ns> start;
  ns real = 0;  // the manual clock's reading at the start
};

constexpr ns second = 1'000'000'000;
constexpr ns tick = second / 2;

class generator {
 public:
  explicit generator(std::uint64_t seed) : m_rng(seed) {}

  program make() {
    m_p = {};
    m_p.real = 100 * second;
    m_p.channels = pick(0, 2);
    const int streams = pick(0, 4);
    std::vector<int> consumer(static_cast<std::size_t>(m_p.channels), -1);
    for (int s = 0; s < streams; ++s) {
      stream_def def;
      def.coro = chance(3);
      def.lazy = chance(3);
      for (int c = 0; c < m_p.channels; ++c) {
        if (consumer[static_cast<std::size_t>(c)] < 0 && chance(2)) {
          consumer[static_cast<std::size_t>(c)] = s;
          def.channel = c;
          break;
        }
      }
      m_p.streams.push_back(def);
    }
    m_channel_coro.assign(static_cast<std::size_t>(m_p.channels), false);
    for (int c = 0; c < m_p.channels; ++c) {
      const int s = consumer[static_cast<std::size_t>(c)];
      if (s >= 0)
        m_channel_coro[static_cast<std::size_t>(c)] = m_p.streams[static_cast<std::size_t>(s)].coro;
    }
    m_budget = pick(5, 40);
    // Past events: times on a coarse grid so that ties within and across streams are common.
    for (stream_def& def : m_p.streams) {
      const int n = pick(0, 6);
      std::vector<ns> times;
      for (int i = 0; i < n; ++i) times.push_back(grid_time(pick(0, 3) == 0 ? 60 : 240));
      std::sort(times.begin(), times.end());
      for (ns t : times) def.past.emplace_back(t, make_node(def.coro, 1));
    }
    if (chance(4)) m_p.start = grid_time(240);
    // Before the run: streams, timers, posts, pushes.
    for (int s = 0; s < static_cast<int>(m_p.streams.size()); ++s) {
      if (!chance(4)) m_p.setup.push_back(add_op({op_kind::start_stream, 0, -1, s}));
    }
    const int setup_ops = pick(1, 6);
    for (int i = 0; i < setup_ops; ++i) m_p.setup.push_back(make_op(0, true));
    // Channels close after every time a program uses, so that their runs end.
    if (m_p.channels > 0) {
      node closer;
      closer.segments.emplace_back();
      for (int c = 0; c < m_p.channels; ++c) {
        closer.segments[0].ops.push_back(add_op({op_kind::close, 0, -1, c}));
      }
      m_p.nodes.push_back(closer);
      m_p.setup.push_back(
          add_op({op_kind::call_at, 300 * second, static_cast<int>(m_p.nodes.size()) - 1, -1}));
    }
    return std::move(m_p);
  }

 private:
  int pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(m_rng); }
  bool chance(int one_in) { return pick(1, one_in) == 1; }
  ns grid_time(int ticks) { return tick * pick(0, ticks); }
  ns delay() { return chance(8) ? -tick * pick(1, 4) : tick * pick(0, 20); }

  int add_op(op o) {
    m_p.ops.push_back(o);
    return static_cast<int>(m_p.ops.size()) - 1;
  }

  int make_node(bool coro, int depth) {
    node n;
    n.coro = coro;
    const int segments = coro ? pick(1, 3) : 1;
    n.segments.resize(static_cast<std::size_t>(segments));
    const int index = static_cast<int>(m_p.nodes.size());
    m_p.nodes.push_back(n);
    for (int k = 0; k < segments; ++k) {
      segment seg;
      const int ops = m_budget > 0 ? pick(0, 3) : 0;
      for (int i = 0; i < ops; ++i) seg.ops.push_back(make_op(depth, false));
      if (k + 1 < segments) {
        if (!m_spawns.empty() && chance(3)) {
          seg.await = await_kind::join;
          seg.join_op =
              m_spawns[static_cast<std::size_t>(pick(0, static_cast<int>(m_spawns.size()) - 1))];
        } else {
          seg.await = await_kind::sleep;
          seg.delay = delay();
        }
      }
      m_p.nodes[static_cast<std::size_t>(index)].segments[static_cast<std::size_t>(k)] = seg;
    }
    return index;
  }

  int make_op(int depth, bool setup) {
    --m_budget;
    const bool may_nest = depth < 5 && m_budget > 0;
    const int r = pick(0, 99);
    auto child = [&](bool coro) { return make_node(coro, depth + 1); };
    if (!may_nest || r >= 90) {
      if (!m_handles.empty() && r % 3 == 0) {
        return add_op(
            {op_kind::cancel, 0, -1,
             m_handles[static_cast<std::size_t>(pick(0, static_cast<int>(m_handles.size()) - 1))]});
      }
      if (!setup && r % 3 == 1 && chance(3)) return add_op({op_kind::stop});
      if (!m_p.streams.empty() && r % 3 == 2) {
        return add_op(
            {op_kind::start_stream, 0, -1, pick(0, static_cast<int>(m_p.streams.size()) - 1)});
      }
      if (m_p.channels > 0 && may_nest) {
        const int c = pick(0, m_p.channels - 1);
        return add_op(
            {op_kind::push, grid_time(240), child(m_channel_coro[static_cast<std::size_t>(c)]), c});
      }
      return add_op({op_kind::stop});
    }
    op o;
    if (r < 18) {
      o = {op_kind::call_at, grid_time(240), child(chance(3)), -1};
    } else if (r < 30) {
      o = {op_kind::call_later, delay(), child(chance(3)), -1};
    } else if (r < 38) {
      o = {op_kind::call_soon, 0, child(chance(3)), -1};
    } else if (r < 48) {
      o = {op_kind::post_at_local, grid_time(240), child(chance(3)), -1};
    } else if (r < 52) {
      o = {op_kind::post_local, 0, child(chance(3)), -1};
    } else if (r < 60) {
      o = {op_kind::post_at_remote, grid_time(240), child(chance(3)), -1};
    } else if (r < 72) {
      o = {op_kind::spawn, 0, child(true), -1};
    } else if (r < 82 && m_p.channels > 0) {
      const int c = pick(0, m_p.channels - 1);
      o = {op_kind::push, grid_time(240), child(m_channel_coro[static_cast<std::size_t>(c)]), c};
    } else {
      o = {op_kind::call_at, grid_time(240), child(chance(2)), -1};
    }
    const int id = add_op(o);
    if (o.kind == op_kind::spawn) m_spawns.push_back(id);
    if (o.kind == op_kind::spawn || o.kind == op_kind::call_at || o.kind == op_kind::call_later ||
        o.kind == op_kind::call_soon) {
      m_handles.push_back(id);
    }
    return id;
  }

  std::mt19937_64 m_rng;
  program m_p;
  int m_budget = 0;
  std::vector<int> m_spawns;
  std::vector<int> m_handles;
  std::vector<bool> m_channel_coro;
};

std::string entry(const std::string& what, std::optional<ns> due, ns now) {
  std::ostringstream out;
  out << what << " due=" << (due ? std::to_string(*due) : "-") << " now=" << now;
  return out.str();
}

std::string label(int node, std::size_t segment, const std::string& joined) {
  return "n" + std::to_string(node) + "." + std::to_string(segment) +
         (joined.empty() ? "" : " joined=" + joined);
}

// ---------------------------------------------------------------------------------------------
// The model: a sorted set of (due, sequence) and continuations, the contract and nothing else.

class model {
 public:
  explicit model(const program& p) : m_p(p) {
    m_real = p.real;
    m_tasks.resize(p.ops.size());
    m_timer_item.assign(p.ops.size(), -1);
    m_joined.assign(p.ops.size(), false);
    m_channels.resize(static_cast<std::size_t>(p.channels));
    m_started.assign(p.streams.size(), false);
    m_previous.assign(p.streams.size(), std::numeric_limits<ns>::min());
    for (std::size_t s = 0; s < p.streams.size(); ++s) {
      if (p.streams[s].channel >= 0)
        m_channels[static_cast<std::size_t>(p.streams[s].channel)].stream = static_cast<int>(s);
    }
  }

  std::vector<std::string> run() {
    for (int o : m_p.setup) exec(o, -1);
    // The first run's start: posts made before it are known work (contract C3).
    take_inbox();
    ns start = m_real;
    if (m_p.start) {
      start = *m_p.start;
    } else if (const item* first = earliest()) {
      start = std::min(start, first->due);
    }
    m_now = start;
    m_running = true;
    for (const deferred& d : m_deferred) {
      if (!m_items[static_cast<std::size_t>(d.id)].cancelled) {
        m_items[static_cast<std::size_t>(d.id)].due =
            asp::saturating_add(asp::time_point{asp::duration{start}}, asp::duration{d.delay})
                .time_since_epoch()
                .count();
        m_queue.insert({m_items[static_cast<std::size_t>(d.id)].due,
                        m_items[static_cast<std::size_t>(d.id)].seq, d.id});
      }
    }
    for (;;) {
      if (m_stop) {
        m_stop = false;
        m_trace.push_back("end of run");
      }
      const item* next = earliest();
      if (next == nullptr) break;
      const int id = next->id;
      m_queue.erase(m_queue.begin());
      item& it = m_items[static_cast<std::size_t>(id)];
      it.done = true;
      if (it.due > m_real) m_real = it.due;  // the manual clock jumps to the deadline
      if (m_now < it.due) m_now = it.due;
      m_current_due = it.due;
      std::function<void()> fn = std::move(it.fn);
      fn();
      take_inbox();
    }
    m_trace.push_back("end of run");
    return std::move(m_trace);
  }

 private:
  struct item {
    int id;
    ns due;
    std::uint64_t seq;
    std::function<void()> fn;
    bool cancelled = false;
    bool done = false;
  };
  struct deferred {
    int id;
    ns delay;
  };
  struct task_state {
    bool exists = false, done = false, cancelled = false;
    int value = 0;
    int pending = -1;     // the item that resumes it, if any
    int waiting_on = -1;  // the task it joins, if any
    std::function<void(const std::string&)> joiner;
    int joiner_task = -1;  // the task that joins it, when the joiner is one
  };
  struct channel_state {
    std::deque<std::pair<ns, int>> buffer;
    bool waiting = false, wake_pending = false, closed = false;
    int stream = -1;
  };

  const item* earliest() {
    while (!m_queue.empty()) {
      const int id = std::get<2>(*m_queue.begin());
      if (!m_items[static_cast<std::size_t>(id)].cancelled)
        return &m_items[static_cast<std::size_t>(id)];
      m_queue.erase(m_queue.begin());
    }
    return nullptr;
  }

  int schedule(ns due, std::function<void()> fn) {
    const int id = static_cast<int>(m_items.size());
    m_items.push_back({id, due, m_seq++, std::move(fn)});
    m_queue.insert({due, m_items.back().seq, id});
    return id;
  }

  int defer(ns delay, std::function<void()> fn) {
    const int id = static_cast<int>(m_items.size());
    m_items.push_back({id, 0, m_seq++, std::move(fn)});
    m_deferred.push_back({id, delay});
    return id;
  }

  // call_later / spawn before the first run count from its start.
  int schedule_from_now(ns delay, std::function<void()> fn) {
    if (!m_running) return defer(delay, std::move(fn));
    return schedule(asp::saturating_add(asp::time_point{asp::duration{m_now}}, asp::duration{delay})
                        .time_since_epoch()
                        .count(),
                    std::move(fn));
  }

  void take_inbox() {
    std::vector<std::pair<ns, std::function<void()>>> inbox = std::move(m_inbox);
    m_inbox.clear();
    for (auto& [stamp, fn] : inbox) schedule(stamp, std::move(fn));
  }

  void record(const std::string& what, std::optional<ns> due) {
    m_trace.push_back(entry(what, due, m_now));
  }

  // A node run from the queue, or as a stream's callback; `then` runs when it has finished.
  void run_node(int n, std::optional<ns> due, int self, std::function<void()> then) {
    if (!m_p.nodes[static_cast<std::size_t>(n)].coro) {
      record(label(n, 0, ""), due);
      for (int o : m_p.nodes[static_cast<std::size_t>(n)].segments[0].ops) exec(o, self);
      if (then) then();
      return;
    }
    run_segment(n, 0, due, self, "", std::move(then));
  }

  void run_segment(int n, std::size_t k, std::optional<ns> due, int self, const std::string& joined,
                   std::function<void()> then) {
    const segment& seg = m_p.nodes[static_cast<std::size_t>(n)].segments[k];
    record(label(n, k, joined), k == 0 ? due : std::nullopt);
    for (int o : seg.ops) exec(o, self);
    auto next = [this, n, k, self, then](const std::string& result) {
      run_segment(n, k + 1, std::nullopt, self, result, then);
    };
    switch (seg.await) {
      case await_kind::none:
        if (self >= 0) finish_task(self, n);
        if (then) then();
        return;
      case await_kind::sleep: {
        const int id = schedule(
            asp::saturating_add(asp::time_point{asp::duration{m_now}}, asp::duration{seg.delay})
                .time_since_epoch()
                .count(),
            [next] { next(""); });
        if (self >= 0) m_tasks[static_cast<std::size_t>(self)].pending = id;
        return;
      }
      case await_kind::join: {
        const int j = seg.join_op;
        task_state& target = m_tasks[static_cast<std::size_t>(j)];
        if (!target.exists || j == self || m_joined[static_cast<std::size_t>(j)]) {
          next("none");
          return;
        }
        m_joined[static_cast<std::size_t>(j)] = true;
        if (target.done) {
          next(result_of(target));
          return;
        }
        target.joiner = next;
        target.joiner_task = self;
        if (self >= 0) m_tasks[static_cast<std::size_t>(self)].waiting_on = j;
        return;
      }
    }
  }

  static std::string result_of(const task_state& t) {
    return t.cancelled ? "cancelled" : "v" + std::to_string(t.value);
  }

  void finish_task(int self, int value) {
    task_state& t = m_tasks[static_cast<std::size_t>(self)];
    t.done = true;
    t.value = value;
    t.pending = -1;
    resume_joiner(t);
  }

  void resume_joiner(task_state& t) {
    if (!t.joiner) return;
    auto joiner = std::move(t.joiner);
    t.joiner = nullptr;
    const std::string result = result_of(t);
    const int id = schedule(m_now, [joiner, result] { joiner(result); });
    if (t.joiner_task >= 0) {
      task_state& waiting = m_tasks[static_cast<std::size_t>(t.joiner_task)];
      waiting.pending = id;
      waiting.waiting_on = -1;
    }
    t.joiner_task = -1;
  }

  void cancel_task(int j) {
    task_state& t = m_tasks[static_cast<std::size_t>(j)];
    if (!t.exists || t.done) return;
    if (t.pending >= 0) m_items[static_cast<std::size_t>(t.pending)].cancelled = true;
    if (t.waiting_on >= 0) {
      task_state& joined = m_tasks[static_cast<std::size_t>(t.waiting_on)];
      joined.joiner = nullptr;
      joined.joiner_task = -1;
    }
    t.done = true;
    t.cancelled = true;
    resume_joiner(t);
  }

  // The stream machinery: past events in order, on_live_start, then the channel.
  void start_stream(int s) {
    if (m_started[static_cast<std::size_t>(s)]) return;
    m_started[static_cast<std::size_t>(s)] = true;
    const stream_def& def = m_p.streams[static_cast<std::size_t>(s)];
    if (!def.past.empty()) {
      schedule(def.past[0].first, [this, s] { stream_event(s, 0); });
    } else {
      schedule_from_now(0, [this, s] { stream_after_past(s); });
    }
  }

  // Past events are sorted: the stream's clamp never moves them.
  void stream_event(int s, std::size_t i) {
    const auto [t, n] = m_p.streams[static_cast<std::size_t>(s)].past[i];
    m_previous[static_cast<std::size_t>(s)] = t;
    run_node(n, t, -1, [this, s, i] {
      const stream_def& d = m_p.streams[static_cast<std::size_t>(s)];
      if (i + 1 < d.past.size()) {
        schedule(d.past[i + 1].first, [this, s, i] { stream_event(s, i + 1); });
      } else {
        stream_after_past(s);
      }
    });
  }

  void stream_after_past(int s) {
    record("s" + std::to_string(s) + " on_live_start", std::nullopt);
    if (m_p.streams[static_cast<std::size_t>(s)].channel >= 0) channel_next(s);
  }

  // The stream asks its channel for the next event: taken at once when one is buffered (and
  // then due at its time, through the queue), else the stream waits for a wake-up.
  void channel_next(int s) {
    channel_state& ch =
        m_channels[static_cast<std::size_t>(m_p.streams[static_cast<std::size_t>(s)].channel)];
    if (!ch.buffer.empty()) {
      const auto [pushed, n] = ch.buffer.front();
      ch.buffer.pop_front();
      const ns t =
          std::max(pushed, m_previous[static_cast<std::size_t>(s)]);  // out_of_order::clamp
      schedule(t, [this, s, t, n = n] { deliver_live(s, t, n); });
      return;
    }
    if (ch.closed) return;
    ch.waiting = true;
  }

  void deliver_live(int s, ns t, int n) {
    m_previous[static_cast<std::size_t>(s)] = t;
    run_node(n, t, -1, [this, s] { channel_next(s); });
  }

  // A channel's wake-up, due at the time of the event that made it (or of the close).
  void wake(int c) {
    channel_state& ch = m_channels[static_cast<std::size_t>(c)];
    ch.wake_pending = false;
    if (!ch.waiting) return;
    ch.waiting = false;
    if (ch.buffer.empty()) return;  // closed: the stream ends
    const auto [pushed, n] = ch.buffer.front();
    ch.buffer.pop_front();
    const int s = ch.stream;
    const ns t = std::max(pushed, m_previous[static_cast<std::size_t>(s)]);
    if (t == m_current_due) {
      deliver_live(s, t, n);  // in the slot of its own wake-up
    } else {
      schedule(t, [this, s, t, n = n] { deliver_live(s, t, n); });
    }
  }

  void exec(int o, int self) {
    const op& x = m_p.ops[static_cast<std::size_t>(o)];
    auto child = [this, n = x.child](std::optional<ns> due) {
      return [this, n, due] { run_node(n, due, -1, nullptr); };
    };
    switch (x.kind) {
      case op_kind::call_at:
        m_timer_item[static_cast<std::size_t>(o)] = schedule(x.time, child(x.time));
        break;
      case op_kind::call_later: {
        const int id = schedule_from_now(x.time, nullptr);
        item& it = m_items[static_cast<std::size_t>(id)];
        // The callback receives its due time, known only once the run starts.
        it.fn = [this, id, n = x.child] {
          run_node(n, m_items[static_cast<std::size_t>(id)].due, -1, nullptr);
        };
        m_timer_item[static_cast<std::size_t>(o)] = id;
        break;
      }
      case op_kind::call_soon: {
        const int id = schedule_from_now(0, nullptr);
        m_items[static_cast<std::size_t>(id)].fn = [this, id, n = x.child] {
          run_node(n, m_items[static_cast<std::size_t>(id)].due, -1, nullptr);
        };
        m_timer_item[static_cast<std::size_t>(o)] = id;
        break;
      }
      case op_kind::post_at_local:
        if (m_running) {
          schedule(x.time, child(x.time));
        } else {
          m_inbox.emplace_back(x.time, child(x.time));
        }
        break;
      case op_kind::post_local:
        if (m_running) {
          schedule(m_real, child(m_real));
        } else {
          m_inbox.emplace_back(m_real, child(m_real));
        }
        break;
      case op_kind::post_at_remote:
        m_inbox.emplace_back(x.time, child(x.time));
        break;
      case op_kind::spawn: {
        task_state& t = m_tasks[static_cast<std::size_t>(o)];
        t.exists = true;
        t.pending = schedule_from_now(0, [this, o, n = x.child] {
          m_tasks[static_cast<std::size_t>(o)].pending = -1;
          run_node(n, std::nullopt, o, nullptr);
        });
        break;
      }
      case op_kind::cancel: {
        const int target = x.target;
        if (m_timer_item[static_cast<std::size_t>(target)] >= 0) {
          item& it =
              m_items[static_cast<std::size_t>(m_timer_item[static_cast<std::size_t>(target)])];
          if (!it.done) it.cancelled = true;
        } else if (m_tasks[static_cast<std::size_t>(target)].exists && target != self) {
          cancel_task(target);
        }
        break;
      }
      case op_kind::start_stream:
        start_stream(x.target);
        break;
      case op_kind::push: {
        channel_state& ch = m_channels[static_cast<std::size_t>(x.target)];
        if (ch.closed) break;
        ch.buffer.emplace_back(x.time, x.child);
        if (ch.waiting && !ch.wake_pending) {
          ch.wake_pending = true;
          const int c = x.target;
          if (m_running) {
            schedule(x.time, [this, c] { wake(c); });
          } else {
            m_inbox.emplace_back(x.time, [this, c] { wake(c); });
          }
        }
        break;
      }
      case op_kind::close: {
        channel_state& ch = m_channels[static_cast<std::size_t>(x.target)];
        if (ch.closed) break;
        ch.closed = true;
        if (ch.waiting && !ch.wake_pending) {
          ch.wake_pending = true;
          const int c = x.target;
          schedule(m_real, [this, c] { wake(c); });
        }
        break;
      }
      case op_kind::stop:
        m_stop = true;
        break;
    }
  }

  const program& m_p;
  std::vector<item> m_items;
  std::set<std::tuple<ns, std::uint64_t, int>> m_queue;
  std::vector<deferred> m_deferred;
  std::vector<std::pair<ns, std::function<void()>>> m_inbox;
  std::vector<task_state> m_tasks;
  std::vector<int> m_timer_item;
  std::vector<bool> m_joined;
  std::vector<channel_state> m_channels;
  std::vector<bool> m_started;
  std::vector<ns> m_previous;  // per stream: the last event's time (out_of_order::clamp)
  std::vector<std::string> m_trace;
  std::uint64_t m_seq = 1;
  ns m_now = 0;
  ns m_real = 0;
  ns m_current_due = 0;
  bool m_running = false;
  bool m_stop = false;
};

// ---------------------------------------------------------------------------------------------
// The real loop, on the manual clock, running the same program.

class runner {
 public:
  runner(const program& p, bool loop_dies_first)
      : m_p(p), m_clock(at(p.real)), m_loop_dies_first(loop_dies_first) {
    m_loop.emplace(m_clock);
    m_timers.resize(p.ops.size());
    m_tasks.resize(p.ops.size());
    m_joined.assign(p.ops.size(), false);
    m_started.assign(p.streams.size(), false);
    m_closed.assign(static_cast<std::size_t>(p.channels), false);
    for (int c = 0; c < p.channels; ++c) {
      m_channels.emplace_back(*m_loop, 4096, asp::when_full::fail, "c" + std::to_string(c));
    }
  }

  runner(const runner&) = delete;
  runner& operator=(const runner&) = delete;

  ~runner() {
    // Loops, handles and channels destroyed in either order (ASan checks what this leaves).
    if (m_loop_dies_first) m_loop.reset();
    m_timers.clear();
    m_tasks.clear();
    m_channels.clear();
    m_loop.reset();
  }

  std::vector<std::string> run() {
    for (int o : m_p.setup) exec(o, -1);
    asp::run_options options;
    if (m_p.start) options.start = at(*m_p.start);
    // A stop ends the run before its next piece of work (one made before the run, at once);
    // the program then runs on, until a run ends with no stop requested.
    for (int stops = 0;; stops = m_stops) {
      m_loop->run(options);
      options.start.reset();
      m_trace.push_back("end of run");
      if (m_stops == stops) break;
    }
    return std::move(m_trace);
  }

 private:
  static asp::time_point at(ns t) { return t0 + asp::duration{t}; }
  static ns rel(asp::time_point t) { return (t - t0).count(); }

  void record(const std::string& what, std::optional<asp::time_point> due) {
    m_trace.push_back(
        entry(what, due ? std::optional<ns>(rel(*due)) : std::nullopt, rel(m_loop->now())));
  }

  void run_plain(int n, std::optional<asp::time_point> due) {
    record(label(n, 0, ""), due);
    for (int o : m_p.nodes[static_cast<std::size_t>(n)].segments[0].ops) exec(o, -1);
  }

  asp::task<int> run_coro(int n, std::optional<asp::time_point> due, int self) {
    std::string joined;
    const node& nd = m_p.nodes[static_cast<std::size_t>(n)];
    for (std::size_t k = 0; k < nd.segments.size(); ++k) {
      const segment& seg = nd.segments[k];
      record(label(n, k, joined), k == 0 ? due : std::nullopt);
      joined.clear();
      for (int o : seg.ops) exec(o, self);
      if (seg.await == await_kind::sleep) {
        co_await asp::sleep(asp::duration{seg.delay});
      } else if (seg.await == await_kind::join) {
        const int j = seg.join_op;
        if (!m_tasks[static_cast<std::size_t>(j)] || j == self ||
            m_joined[static_cast<std::size_t>(j)]) {
          joined = "none";
        } else {
          m_joined[static_cast<std::size_t>(j)] = true;
          try {
            joined = "v" + std::to_string(co_await *m_tasks[static_cast<std::size_t>(j)]);
          } catch (const asp::cancelled&) {
            joined = "cancelled";
          }
        }
      }
    }
    co_return n;
  }

  // A node as a callback of call_at and friends: plain, or a coroutine function.
  template <class Schedule>
  void with_callback(int n, Schedule schedule) {
    if (m_p.nodes[static_cast<std::size_t>(n)].coro) {
      schedule(
          [this, n](asp::time_point due) -> asp::task<void> { co_await run_coro(n, due, -1); });
    } else {
      schedule([this, n](asp::time_point due) { run_plain(n, due); });
    }
  }

  void start_stream(int s) {
    if (m_started[static_cast<std::size_t>(s)]) return;
    m_started[static_cast<std::size_t>(s)] = true;
    const stream_def& def = m_p.streams[static_cast<std::size_t>(s)];
    std::vector<asp::event<int>> past;
    for (const auto& [t, n] : def.past) past.push_back({at(t), n});
    asp::stream_options options{
        .name = "s" + std::to_string(s),
        .on_live_start = [this,
                          s] { record("s" + std::to_string(s) + " on_live_start", std::nullopt); },
        .order = asp::out_of_order::clamp};
    if (def.coro) {
      auto cb = [this](asp::time_point t, int n) -> asp::task<void> {
        co_await run_coro(n, t, -1);
      };
      start(cb, std::move(past), def, std::move(options));
    } else {
      auto cb = [this](asp::time_point t, int n) { run_plain(n, t); };
      start(cb, std::move(past), def, std::move(options));
    }
  }

  static asp::generator<asp::event<int>> lazily(std::vector<asp::event<int>> events) {
    for (asp::event<int>& e : events) co_yield e;
  }

  template <class Callback>
  void start(Callback cb, std::vector<asp::event<int>> past, const stream_def& def,
             asp::stream_options options) {
    asp::loop& l = *m_loop;
    if (def.channel >= 0) {
      asp::channel<int>& ch = m_channels[static_cast<std::size_t>(def.channel)];
      if (def.lazy) {
        asp::start(l, asp::process_stream(cb, lazily(std::move(past)), ch, std::move(options)))
            .detach();
      } else {
        asp::start(l, asp::process_stream(cb, std::move(past), ch, std::move(options))).detach();
      }
    } else if (def.lazy) {
      asp::start(l, asp::process_stream(cb, lazily(std::move(past)), asp::none, std::move(options)))
          .detach();
    } else {
      asp::start(l, asp::process_stream(cb, std::move(past), asp::none, std::move(options)))
          .detach();
    }
  }

  void exec(int o, int self) {
    const op& x = m_p.ops[static_cast<std::size_t>(o)];
    asp::loop& l = *m_loop;
    switch (x.kind) {
      case op_kind::call_at:
        with_callback(x.child, [&](auto cb) {
          m_timers[static_cast<std::size_t>(o)] = l.call_at(at(x.time), std::move(cb));
        });
        break;
      case op_kind::call_later:
        with_callback(x.child, [&](auto cb) {
          m_timers[static_cast<std::size_t>(o)] =
              l.call_later(asp::duration{x.time}, std::move(cb));
        });
        break;
      case op_kind::call_soon:
        with_callback(x.child, [&](auto cb) {
          m_timers[static_cast<std::size_t>(o)] = l.call_soon(std::move(cb));
        });
        break;
      case op_kind::post_at_local:
        with_callback(x.child, [&](auto cb) { l.post_at(at(x.time), std::move(cb)); });
        break;
      case op_kind::post_local:
        with_callback(x.child, [&](auto cb) { l.post(std::move(cb)); });
        break;
      case op_kind::post_at_remote:
        with_callback(x.child, [&](auto cb) {
          std::thread producer([&] { l.post_at(at(x.time), std::move(cb)); });
          producer.join();
        });
        break;
      case op_kind::spawn:
        m_tasks[static_cast<std::size_t>(o)].emplace(
            asp::spawn(l, run_coro(x.child, std::nullopt, o)));
        break;
      case op_kind::cancel: {
        const auto target = static_cast<std::size_t>(x.target);
        if (m_p.ops[target].kind != op_kind::spawn) {
          m_timers[target].cancel();  // harmless when it ran, or was never made
        } else if (m_tasks[target] && x.target != self) {
          m_tasks[target]->cancel();
        }
        break;
      }
      case op_kind::start_stream:
        start_stream(x.target);
        break;
      case op_kind::push:
        if (!m_closed[static_cast<std::size_t>(x.target)]) {
          m_channels[static_cast<std::size_t>(x.target)].push(at(x.time), x.child);
        }
        break;
      case op_kind::close:
        m_closed[static_cast<std::size_t>(x.target)] = true;
        m_channels[static_cast<std::size_t>(x.target)].close();
        break;
      case op_kind::stop:
        ++m_stops;
        l.stop();
        break;
    }
  }

  const program& m_p;
  asp::manual_clock m_clock;
  bool m_loop_dies_first;
  std::optional<asp::loop> m_loop;
  std::vector<asp::timer_handle> m_timers;
  std::vector<std::optional<asp::join_handle<int>>> m_tasks;
  std::vector<bool> m_joined;
  std::vector<bool> m_started;
  std::vector<bool> m_closed;
  std::deque<asp::channel<int>> m_channels;
  std::vector<std::string> m_trace;
  int m_stops = 0;
};

std::string describe(const program& p) {
  std::ostringstream out;
  out << p.nodes.size() << " nodes, " << p.ops.size() << " ops, " << p.streams.size()
      << " streams, " << p.channels << " channels";
  return out.str();
}

// Where two traces part, with some context.
std::string divergence(const std::vector<std::string>& want, const std::vector<std::string>& got) {
  std::size_t i = 0;
  while (i < want.size() && i < got.size() && want[i] == got[i]) ++i;
  std::ostringstream out;
  out << "traces part at entry " << i << "\n";
  for (std::size_t k = i >= 3 ? i - 3 : 0; k < std::max(want.size(), got.size()) && k < i + 4;
       ++k) {
    out << "  " << k << ": model " << (k < want.size() ? want[k] : "(end)") << " | loop "
        << (k < got.size() ? got[k] : "(end)") << "\n";
  }
  return out.str();
}

std::uint64_t env_or(const char* name, std::uint64_t fallback) {
  const char* value = std::getenv(name);
  return value != nullptr ? std::strtoull(value, nullptr, 10) : fallback;
}

TEST(Contract, RandomProgramsRunExactlyAsTheReferenceModelSays) {
  std::uint64_t first = 1;
  std::uint64_t count = env_or("ASP_PROPERTY_PROGRAMS", 2000);
  if (std::getenv("ASP_PROPERTY_SEED") != nullptr) {
    first = env_or("ASP_PROPERTY_SEED", 1);
    count = 1;
  }
  std::uint64_t entries = 0;
  for (std::uint64_t seed = first; seed < first + count; ++seed) {
    const program p = generator(seed).make();
    const std::vector<std::string> want = model(p).run();
    std::vector<std::string> got;
    try {
      got = runner(p, seed % 2 == 0).run();
    } catch (const std::exception& e) {
      FAIL() << "seed " << seed << " (" << describe(p) << "): the run failed: " << e.what()
             << "\nreplay with ASP_PROPERTY_SEED=" << seed;
    }
    if (want != got) {
      FAIL() << "seed " << seed << " (" << describe(p) << "): " << divergence(want, got)
             << "replay with ASP_PROPERTY_SEED=" << seed;
    }
    entries += want.size();
  }
  // The programs did something: on average several entries each.
  EXPECT_GT(entries, count * 3);
}

TEST(Contract, TheModelAgreesWithHandWrittenTraces) {
  // A past stream, a timer it sets, a post from the loop's thread into the past, a channel
  // event pushed with its own time: the model's trace, spelled out.
  program p;
  p.real = 100 * second;
  p.channels = 1;
  auto plain = [&p](std::vector<int> ops) {
    p.nodes.push_back({false, {segment{std::move(ops)}}});
    return static_cast<int>(p.nodes.size()) - 1;
  };
  auto add = [&p](op o) {
    p.ops.push_back(o);
    return static_cast<int>(p.ops.size()) - 1;
  };
  const int timer_cb = plain({});
  const int posted_cb = plain({});
  const int live_cb = plain({});
  const int e0 = plain({add({op_kind::call_later, ns{1500} * 1'000'000, timer_cb, -1})});
  const int e1 = plain({add({op_kind::post_at_local, ns{2500} * 1'000'000, posted_cb, -1}),
                        add({op_kind::push, ns{2200} * 1'000'000, live_cb, 0})});
  const int e2 = plain({});
  p.streams.push_back({{{1 * second, e0}, {2 * second, e1}, {3 * second, e2}}, -1, false, false});
  p.streams.push_back({{}, 0, false, false});
  p.setup = {add({op_kind::start_stream, 0, -1, 0}), add({op_kind::start_stream, 0, -1, 1})};
  const int closer = plain({add({op_kind::close, 0, -1, 0})});
  p.setup.push_back(add({op_kind::call_at, 300 * second, closer, -1}));
  const std::vector<std::string> want{
      "n3.0 due=1000000000 now=1000000000",     // e0
      "s1 on_live_start due=- now=1000000000",  // started before the run: at the start, after
      "n4.0 due=2000000000 now=2000000000",     // e1 (its push wakes stream 1 at 2.2 s)
      "n2.0 due=2200000000 now=2200000000",     // the live event, at its own time
      "n0.0 due=2500000000 now=2500000000",     // the timer set by e0
      "n1.0 due=2500000000 now=2500000000",     // the post, at its stamp
      "n5.0 due=3000000000 now=3000000000",     // e2
      "s0 on_live_start due=- now=3000000000",
      "n6.0 due=300000000000 now=300000000000",  // the closer, live
      "end of run"};
  EXPECT_EQ(model(p).run(), want);
  EXPECT_EQ(runner(p, false).run(), want);
}

}  // namespace

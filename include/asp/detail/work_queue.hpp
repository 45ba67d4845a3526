#pragma once

#include <asp/time.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace asp {
class loop;
}

namespace asp::detail {

/// What the loop asks of a piece of work.
enum class work_op : unsigned char {
  run,       ///< do it (may throw), then destroy the callable; the loop recycles the node
  destroy,   ///< destroy the callable without running it (teardown, cancel); never throws
  describe,  ///< append who this is to *description, for error messages
};

/// Anything the loop can schedule: a callback, a coroutine to resume, posted work. `m_seq` is
/// the sequence number of its pending schedule (0 when not scheduled); it breaks ties between
/// equal due times and tells a handle whether the schedule it names is still pending.
struct work_node {
  using fn_type = void (*)(work_node* self, work_op op, time_point due, loop& l,
                           std::string* description);
  fn_type m_fn = nullptr;
  std::uint64_t m_seq = 0;

  bool cancelled() const noexcept;
};

/// What a cancelled node does: nothing. Its queue entry is dropped when it surfaces, and only
/// then does the node go back to the pool, so an entry never points at a reused node.
inline void cancelled_work(work_node*, work_op, time_point, loop&, std::string*) {}

inline bool work_node::cancelled() const noexcept {
  return m_fn == &cancelled_work;
}

/// A one-shot node from the loop's pool: one cache line, with room for a small callable so
/// that scheduling one allocates nothing.
struct alignas(64) pool_node : work_node {
  static constexpr std::size_t inline_size = 48;
  union {
    alignas(16) unsigned char m_storage[inline_size];
    pool_node* m_next_free;
  };
};
static_assert(sizeof(pool_node) == 64);

/// Free list of pool nodes. Chunks live as long as the pool, so a stale handle or queue entry
/// may always read a node's sequence number.
class node_pool {
 public:
  pool_node* acquire() {
    if (m_free == nullptr) grow();
    pool_node* node = m_free;
    m_free = node->m_next_free;
    return node;
  }

  void release(pool_node* node) noexcept {
    node->m_seq = 0;
    node->m_next_free = m_free;
    m_free = node;
  }

 private:
  void grow() {
    const std::size_t count = m_chunks.empty() ? 64 : std::min<std::size_t>(m_capacity, 1 << 14);
    m_chunks.push_back(std::make_unique<pool_node[]>(count));
    pool_node* chunk = m_chunks.back().get();
    for (std::size_t i = 0; i < count; ++i) {
      chunk[i].m_next_free = i + 1 < count ? &chunk[i + 1] : m_free;
    }
    m_free = chunk;
    m_capacity += count;
  }

  std::vector<std::unique_ptr<pool_node[]>> m_chunks;
  pool_node* m_free = nullptr;
  std::size_t m_capacity = 0;
};

/// A scheduled piece of work in a queue: ordered by (due, seq) — contract C2. Sixteen
/// bytes: the sequence number is read from the node, which only ties need.
struct entry {
  time_point due;
  work_node* node;

  bool stale() const noexcept { return node->cancelled(); }
};

inline bool before(const entry& a, const entry& b) noexcept {
  return a.due < b.due || (a.due == b.due && a.node->m_seq < b.node->m_seq);
}

/// A 4-ary min-heap of entries: shallower than a binary heap, and a node's four children
/// share a cache line or two.
class entry_heap {
 public:
  bool empty() const noexcept { return m_items.empty(); }
  std::size_t size() const noexcept { return m_items.size(); }
  const entry& top() const noexcept { return m_items.front(); }

  void push(const entry& e) {
    m_items.push_back(e);
    std::size_t hole = m_items.size() - 1;
    while (hole > 0) {
      const std::size_t parent = (hole - 1) / 4;
      if (!before(e, m_items[parent])) break;
      m_items[hole] = m_items[parent];
      hole = parent;
    }
    m_items[hole] = e;
  }

  entry pop() noexcept {
    const entry result = m_items.front();
    const entry last = m_items.back();
    m_items.pop_back();
    if (!m_items.empty()) sift_down(0, last);
    return result;
  }

  /// Drops every entry for which `dead(entry)` holds and restores the heap in O(n).
  template <class Predicate>
  void remove_if(Predicate dead) {
    std::erase_if(m_items, dead);
    for (std::size_t i = m_items.size() / 4 + 1; i-- > 0;) {
      if (i < m_items.size()) sift_down(i, m_items[i]);
    }
  }

 private:
  void sift_down(std::size_t hole, const entry e) noexcept {
    const std::size_t n = m_items.size();
    for (;;) {
      const std::size_t first = hole * 4 + 1;
      if (first >= n) break;
      std::size_t best = first;
      const std::size_t last = first + 4 < n ? first + 4 : n;
      for (std::size_t c = first + 1; c < last; ++c) {
        if (before(m_items[c], m_items[best])) best = c;
      }
      if (!before(m_items[best], e)) break;
      m_items[hole] = m_items[best];
      hole = best;
    }
    m_items[hole] = e;
  }

  std::vector<entry> m_items;
};

/// First-in first-out ring of entries, kept sorted by (due, seq): an entry is appended only
/// when its due time is not earlier than the last one's (sequence numbers only grow). Work due
/// now and posted work, stamped in order, go here in O(1); the loop merges the ring with the
/// heap by comparing fronts.
class entry_ring {
 public:
  bool empty() const noexcept { return m_head == m_tail; }
  std::size_t size() const noexcept { return m_tail - m_head; }
  const entry& front() const noexcept { return m_items[m_head & m_mask]; }
  const entry& back() const noexcept { return m_items[(m_tail - 1) & m_mask]; }

  void push(const entry& e) {
    if (size() == m_items.size()) grow();
    m_items[m_tail++ & m_mask] = e;
  }

  entry pop() noexcept { return m_items[m_head++ & m_mask]; }

  template <class Predicate>
  void remove_if(Predicate dead) {
    std::vector<entry> kept;
    while (!empty()) {
      const entry e = pop();
      if (!dead(e)) kept.push_back(e);
    }
    m_head = m_tail = 0;
    for (const entry& e : kept) push(e);
  }

 private:
  void grow() {
    std::vector<entry> bigger(m_items.empty() ? 64 : m_items.size() * 2);
    const std::size_t count = size();
    for (std::size_t i = 0; i < count; ++i) bigger[i] = m_items[(m_head + i) & m_mask];
    m_items = std::move(bigger);
    m_head = 0;
    m_tail = count;
    m_mask = m_items.size() - 1;
  }

  std::vector<entry> m_items;
  std::size_t m_head = 0;
  std::size_t m_tail = 0;
  std::size_t m_mask = 0;
};

/// Names one schedule of a node: what cancelling it takes.
struct work_ticket {
  work_node* node = nullptr;
  std::uint64_t seq = 0;
};

/// The loop's queue of pending work (docs/design.md, "What is scheduled"): entries ordered by
/// (due, sequence) across two sorted FIFO rings and a 4-ary heap; the next piece of work is
/// the smallest of the three fronts. One ring holds work due now and input that arrives in
/// order; the other, the next events of streams that take turns, each due after every event
/// pending, so that merging K streams costs O(1) an event instead of a heap's O(log K). Work
/// that would unsort a ring goes to the heap, and timers and sleeps never enter the ring of
/// stream events: one far ahead would send the events behind it to the heap. Owns the pool the
/// nodes come from and the loop-wide sequence counter. Cancelled work stays as a tombstone until it
/// surfaces, and the queue is compacted when tombstones dominate, so arming and cancelling timeouts
/// forever keeps it bounded.
class work_queue {
 public:
  work_queue() = default;
  work_queue(const work_queue&) = delete;
  work_queue& operator=(const work_queue&) = delete;

  /// A node for a new piece of work, from the pool.
  pool_node* acquire() { return m_pool.acquire(); }
  /// Returns a node that is in no queue to the pool.
  void release(work_node* node) noexcept { m_pool.release(static_cast<pool_node*>(node)); }

  /// Takes the next sequence number for `node`, which is not queued yet (deferred work).
  std::uint64_t number(work_node* node) noexcept { return node->m_seq = m_next_seq++; }

  /// Queues `node` at `due` with the next sequence number, which it returns. Work that keeps
  /// the ring of work due now sorted and is due at or before `ring_limit` goes to it in O(1).
  std::uint64_t push(work_node* node, time_point due, time_point ring_limit) {
    const std::uint64_t seq = number(node);
    if (due <= ring_limit && (m_ready.empty() || !(due < m_ready.back().due))) {
      m_ready.push({due, node});
    } else {
      m_heap.push({due, node});
    }
    return seq;
  }

  /// As push, for the next event of a stream: later work that keeps the ring of later work
  /// sorted goes to it in O(1).
  std::uint64_t push_in_turn(work_node* node, time_point due, time_point ring_limit) {
    const bool in_order = m_later.empty() || !(due < m_later.back().due);
    if (due <= ring_limit || !in_order) return push(node, due, ring_limit);
    const std::uint64_t seq = number(node);
    m_later.push({due, node});
    return seq;
  }

  /// Entries queued, cancelled ones included until they are dropped at the front.
  std::size_t size() const noexcept { return m_ready.size() + m_later.size() + m_heap.size(); }

  /// Queues a node that already has its sequence number.
  void push_numbered(work_node* node, time_point due) { m_heap.push({due, node}); }

  /// The earliest pending work, or nullptr; drops tombstones on the way.
  const entry* peek() noexcept;

  /// Whether work due at `due`, queued now, would come before everything pending.
  bool would_run_first(time_point due) const noexcept {
    if (!m_ready.empty() && !(due < m_ready.front().due)) return false;
    if (!m_later.empty() && !(due < m_later.front().due)) return false;
    return m_heap.empty() || due < m_heap.top().due;
  }

  /// Removes the entry that peek() returned.
  entry pop() noexcept {
    const entry e = m_next_from == from::ready   ? m_ready.pop()
                    : m_next_from == from::later ? m_later.pop()
                                                 : m_heap.pop();
    // The next piece of work is probably cold (queued long ago): fetch it while this one runs.
    if (!m_heap.empty()) __builtin_prefetch(m_heap.top().node);
    return e;
  }

  /// Cancels `node` if its pending schedule is `seq`: destroys its callable at once (through
  /// `l`) and leaves a tombstone. Returns whether it did.
  bool cancel(work_node* node, std::uint64_t seq, loop& l) noexcept {
    if (node == nullptr || seq == 0 || node->m_seq != seq || node->cancelled()) return false;
    cancel_pending(node, l);
    return true;
  }

  /// Destroys one pending callable without running it (teardown); false when none is left.
  bool destroy_one(loop& l) noexcept;

 private:
  void cancel_pending(work_node* node, loop& l) noexcept;
  // Returns the tombstones at the front of `ring` to the pool.
  void drop_stale(entry_ring& ring) noexcept {
    while (!ring.empty() && ring.front().stale()) {
      release(ring.pop().node);
      if (m_stale > 0) --m_stale;
    }
  }

  entry_ring m_ready;  // work due now, in order
  entry_ring m_later;  // later work, in order
  entry_heap m_heap;   // the rest
  enum class from : unsigned char { ready, later, heap };
  from m_next_from = from::heap;  // set by peek(): where the earliest work is
  std::size_t m_stale = 0;
  std::uint64_t m_next_seq = 1;
  node_pool m_pool;
};

}  // namespace asp::detail

#include <asp/detail/work_queue.hpp>

namespace asp::detail {

const entry* work_queue::peek() noexcept {
  drop_stale(m_ready);
  while (!m_heap.empty() && m_heap.top().stale()) {
    release(m_heap.pop().node);
    if (m_stale > 0) --m_stale;
  }
  const entry* best = nullptr;
  if (!m_heap.empty()) {
    best = &m_heap.top();
    m_next_from = from::heap;
  }
  drop_stale(m_later);
  if (!m_later.empty() && (best == nullptr || before(m_later.front(), *best))) {
    best = &m_later.front();
    m_next_from = from::later;
  }
  if (!m_ready.empty() && (best == nullptr || before(m_ready.front(), *best))) {
    best = &m_ready.front();
    m_next_from = from::ready;
  }
  return best;
}

void work_queue::cancel_pending(work_node* node, loop& l) noexcept {
  node->m_fn(node, work_op::destroy, time_point{}, l, nullptr);
  node->m_fn = &cancelled_work;
  // Cancelled entries stay in the queues until they surface; compact when they dominate, so
  // a service that arms and cancels timeouts forever keeps bounded queues. A deferred node
  // (not queued yet) is dropped when the run starts.
  if (++m_stale > 1024 && m_stale * 2 > size()) {
    const auto dead = [this](const entry& e) {
      if (!e.stale()) return false;
      release(e.node);
      return true;
    };
    m_heap.remove_if(dead);
    m_ready.remove_if(dead);
    m_later.remove_if(dead);
    m_stale = 0;
  }
}

bool work_queue::destroy_one(loop& l) noexcept {
  if (peek() == nullptr) {
    m_stale = 0;
    return false;
  }
  const entry e = pop();
  e.node->m_seq = 0;
  e.node->m_fn(e.node, work_op::destroy, e.due, l, nullptr);
  release(e.node);
  return true;
}

}  // namespace asp::detail

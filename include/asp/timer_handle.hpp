#pragma once

#include <asp/detail/remote.hpp>
#include <asp/detail/work_queue.hpp>

#include <cstdint>
#include <utility>

namespace asp {

class loop;
namespace detail {
struct scheduler;
}

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
  bool cancel() noexcept {
    if (m_anchor == nullptr || m_anchor->m_loop == nullptr) return false;
    return m_anchor->m_queue->cancel(m_node, m_seq, *m_anchor->m_loop);
  }

  /// Whether the work is still waiting to run.
  bool pending() const noexcept {
    return m_anchor != nullptr && m_anchor->m_loop != nullptr && m_node->m_seq == m_seq &&
           !m_node->cancelled();
  }

 private:
  friend class loop;
  friend struct detail::scheduler;
  timer_handle(detail::loop_anchor* anchor, detail::work_node* node, std::uint64_t seq) noexcept
      : m_anchor(detail::retain(anchor)), m_node(node), m_seq(seq) {}

  detail::loop_anchor* m_anchor = nullptr;
  detail::work_node* m_node = nullptr;
  std::uint64_t m_seq = 0;
};

}  // namespace asp

#include <asp/detail/remote.hpp>

#include <stdexcept>
#include <utility>

namespace asp::detail {

loop_remote::loop_remote(std::unique_ptr<asp::clock> own)
    : m_clock(own.get()), m_own_clock(std::move(own)) {}

void loop_remote::post(std::optional<time_point> stamp, posted_fn<loop> fn) {
  bool wake = false;
  {
    std::lock_guard lock(m_mutex);
    check_open();
    m_posts.push_back({stamp ? *stamp : m_clock->now(), std::move(fn)});
    wake = mark_posts_waiting();
  }
  if (wake) wake_if_sleeping();
}

bool loop_remote::take(std::vector<post_item>& out) {
  if (!m_posts_waiting.load(std::memory_order_seq_cst)) return false;
  std::lock_guard lock(m_mutex);
  m_posts_waiting.store(false, std::memory_order_relaxed);
  out.swap(m_posts);
  return !out.empty();
}

void loop_remote::check_open() const {
  if (m_closed) throw std::logic_error("asp: work posted to a loop that has been destroyed");
}

// Under m_mutex. Only the post that makes the inbox non-empty needs to look at the loop.
bool loop_remote::mark_posts_waiting() noexcept {
  if (m_posts_waiting.load(std::memory_order_relaxed)) return false;
  m_posts_waiting.store(true, std::memory_order_seq_cst);
  return true;
}

// Paired with the loop's store of m_sleeping before it re-checks m_posts_waiting: one of the two
// sides sees the other, so a post is never left unnoticed while the loop sleeps.
void loop_remote::wake_if_sleeping() noexcept {
  if (m_sleeping.load(std::memory_order_seq_cst)) m_wakeup.notify();
}

void loop_remote::wait_until(time_point deadline, const std::atomic<bool>& stop) {
  m_sleeping.store(true, std::memory_order_seq_cst);
  if (!m_posts_waiting.load(std::memory_order_seq_cst) && !stop.load(std::memory_order_relaxed)) {
    m_clock->wait_until(deadline, m_wakeup);
  }
  m_sleeping.store(false, std::memory_order_relaxed);
}

void loop_remote::close() noexcept {
  std::vector<post_item> dropped;
  {
    std::lock_guard lock(m_mutex);
    m_closed = true;
    m_gone.store(true, std::memory_order_release);
    dropped.swap(m_posts);
    m_posts_waiting.store(false, std::memory_order_relaxed);
  }
  // The callables are destroyed here, outside the lock.
}

}  // namespace asp::detail

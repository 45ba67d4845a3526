#include <asp/detail/remote.hpp>

#include <stdexcept>
#include <utility>

namespace asp::detail {

loop_remote::loop_remote(std::unique_ptr<asp::clock> own_clock, asp::clock* clock,
                         std::unique_ptr<asp::backend> own_backend, asp::backend* backend,
                         std::atomic<unsigned>& attention)
    : m_own_clock(std::move(own_clock)),
      m_clock(m_own_clock ? m_own_clock.get() : clock),
      m_own_backend(std::move(own_backend)),
      m_backend(m_own_backend ? m_own_backend.get() : backend),
      m_attention(&attention) {}

void loop_remote::post(std::optional<time_point> stamp, posted_fn<loop> fn) {
  std::lock_guard lock(m_mutex);
  check_open();
  m_posts.push_back({stamp ? *stamp : m_clock->now(), std::move(fn)});
  announce();
}

void loop_remote::request(pacing_request::kind what, std::optional<double> rate) {
  std::lock_guard lock(m_mutex);
  check_open();
  m_requests.push_back({what, rate, m_clock->now()});
  announce();
}

bool loop_remote::take(std::vector<post_item>& posts, std::vector<pacing_request>& requests) {
  if (!m_posts_waiting.load(std::memory_order_seq_cst) &&
      (m_attention->load(std::memory_order_relaxed) & input_bit) == 0) {
    return false;
  }
  std::lock_guard lock(m_mutex);
  m_posts_waiting.store(false, std::memory_order_relaxed);
  m_attention->fetch_and(~input_bit, std::memory_order_relaxed);
  posts.swap(m_posts);
  requests.swap(m_requests);
  return !posts.empty() || !requests.empty();
}

void loop_remote::drop_hold() noexcept {
  if (m_holds.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  // The last hold went: the loop may be waiting for nothing but it. Under the lock, so that
  // the loop (and a backend it was given) cannot be destroyed meanwhile.
  std::lock_guard lock(m_mutex);
  if (!m_closed) m_backend->wake();
}

void loop_remote::set_on_wake(std::function<void()> hook) {
  std::lock_guard lock(m_mutex);
  m_on_wake = std::move(hook);
}

void loop_remote::check_open() const {
  if (m_closed) throw std::logic_error("asp: work posted to a loop that has been destroyed");
}

// Under m_mutex. Only the post that makes the inbox non-empty needs to look at the loop, and
// it wakes the loop only when the loop is idle. The flag pair (m_posts_waiting here,
// m_sleeping in idle()) is sequentially consistent: one side always sees the other, so a post
// is never left unnoticed while the loop waits.
void loop_remote::announce() {
  if (m_posts_waiting.load(std::memory_order_relaxed)) return;
  m_posts_waiting.store(true, std::memory_order_seq_cst);
  m_attention->fetch_or(input_bit, std::memory_order_relaxed);
  if (m_sleeping.load(std::memory_order_seq_cst)) {
    m_backend->wake();
    if (m_on_wake) m_on_wake();
  }
}

bool loop_remote::idle() noexcept {
  m_sleeping.store(true, std::memory_order_seq_cst);
  if (m_posts_waiting.load(std::memory_order_seq_cst)) {
    m_sleeping.store(false, std::memory_order_relaxed);
    return false;
  }
  return true;
}

void loop_remote::close() noexcept {
  std::vector<post_item> dropped;
  {
    std::lock_guard lock(m_mutex);
    m_closed = true;
    m_attention = nullptr;
    m_gone.store(true, std::memory_order_release);
    dropped.swap(m_posts);
    m_requests.clear();
    m_on_wake = nullptr;
    m_posts_waiting.store(false, std::memory_order_relaxed);
  }
  // The callables are destroyed here, outside the lock.
}

}  // namespace asp::detail

#include <asp/detail/remote.hpp>

#include <stdexcept>
#include <utility>

namespace asp::detail {

loop_remote::loop_remote(std::unique_ptr<asp::clock> own_clock, asp::clock* clock,
                         std::unique_ptr<asp::backend> own_backend, asp::backend* backend,
                         std::atomic<unsigned>& attention_word)
    : m_own_clock(std::move(own_clock)),
      m_clock(m_own_clock ? m_own_clock.get() : clock),
      m_own_backend(std::move(own_backend)),
      m_backend(m_own_backend ? m_own_backend.get() : backend),
      m_attention(&attention_word) {}

void loop_remote::post(std::optional<time_point> stamp, posted_fn<loop> fn) {
  const post_inbox::claim c = m_inbox.reserve(1);
  post_inbox::slot& s = c.where->slots[c.first];
  s.stamp = stamp ? *stamp : m_clock->now();
  s.fn = std::move(fn);
  publish(&s, 1);
}

void loop_remote::publish(post_inbox::slot* slots, std::size_t count) noexcept {
  // The loop hears of the work before it is marked written, so that it is still alive to hear
  // (its close waits for every claimed slot); one that looks too early finds the slot claimed
  // and looks again.
  if (flag_input()) {
    std::lock_guard lock(m_mutex);
    wake_locked();
  }
  for (std::size_t i = 0; i < count; ++i) slots[i].written.store(true, std::memory_order_release);
}

// Only the producer that sets the input bit looks further at the loop, and it wakes the loop
// only when the loop is idle. The pairs (the claim here and the loop's look at the tail in
// quiet(); the input bit here and m_sleeping in idle()) are sequentially consistent: one side
// always sees the other, so a post is never left unnoticed while the loop waits.
bool loop_remote::flag_input() noexcept {
  if ((m_attention->load(std::memory_order_seq_cst) & attention::input_bit) != 0) return false;
  if ((m_attention->fetch_or(attention::input_bit, std::memory_order_seq_cst) &
       attention::input_bit) != 0)
    return false;
  return m_sleeping.load(std::memory_order_seq_cst);
}

bool loop_remote::quiet() noexcept {
  m_empty_looks = 0;
  m_attention->fetch_and(~attention::input_bit, std::memory_order_seq_cst);
  if (m_inbox.claimed_unread() || m_requests_waiting.load(std::memory_order_seq_cst)) {
    m_attention->fetch_or(attention::input_bit, std::memory_order_seq_cst);
    return false;
  }
  return true;
}

void loop_remote::wake_locked() noexcept {
  if (m_closed) return;
  m_backend->wake();
  if (m_on_wake) m_on_wake();
}

void loop_remote::request(pacing_request::kind what, std::optional<double> rate) {
  std::lock_guard lock(m_mutex);
  check_open();
  m_requests.push_back({what, rate, m_clock->now()});
  m_requests_waiting.store(true, std::memory_order_seq_cst);
  if (flag_input()) wake_locked();
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
  if (gone()) post_inbox::throw_closed();
}

bool loop_remote::idle() noexcept {
  if (!quiet()) return false;
  m_sleeping.store(true, std::memory_order_seq_cst);
  if (posts_waiting()) {
    m_sleeping.store(false, std::memory_order_relaxed);
    return false;
  }
  return true;
}

void loop_remote::close() noexcept {
  // Later posts throw; those already claimed are written in a moment and destroyed here, on the
  // loop's thread, before the loop is gone.
  m_inbox.close();
  std::lock_guard lock(m_mutex);
  m_closed = true;
  m_gone.store(true, std::memory_order_release);
  m_requests.clear();
  m_on_wake = nullptr;
}

}  // namespace asp::detail

#include <asp/clock.hpp>

#include <algorithm>

namespace asp {

system_clock::system_clock() noexcept
    : m_wall_at_start(std::chrono::time_point_cast<duration>(std::chrono::system_clock::now())),
      m_steady_at_start(std::chrono::steady_clock::now()) {}

system_clock::system_clock(time_point start) noexcept
    : m_wall_at_start(start), m_steady_at_start(std::chrono::steady_clock::now()) {}

time_point system_clock::now() const noexcept {
  return m_wall_at_start +
         std::chrono::duration_cast<duration>(std::chrono::steady_clock::now() - m_steady_at_start);
}

void system_clock::wait_until(time_point deadline, backend& b) {
  if (deadline == time_point::max()) {
    b.wait(std::nullopt);
    return;
  }
  const time_point current = now();
  if (deadline <= current) return;
  b.wait(deadline - current);
}

void manual_clock::set(time_point t) noexcept {
  const std::int64_t target = t.time_since_epoch().count();
  std::int64_t seen = m_now.load(std::memory_order_relaxed);
  while (seen < target && !m_now.compare_exchange_weak(seen, target, std::memory_order_acq_rel)) {
  }
}

void manual_clock::advance(duration d) noexcept {
  if (d > duration::zero()) m_now.fetch_add(d.count(), std::memory_order_acq_rel);
}

bool manual_clock::skip_to(time_point deadline) noexcept {
  if (deadline != time_point::max() && deadline > now()) {
    m_advances.fetch_add(1, std::memory_order_relaxed);
    set(deadline);
  }
  return true;
}

void manual_clock::wait_until(time_point deadline, backend& b) {
  // A pending wake-up is input that arrived "now": it must be taken before time moves on.
  if (b.wait(duration::zero())) return;
  if (deadline == time_point::max()) {
    m_blocks.fetch_add(1, std::memory_order_relaxed);
    b.wait(std::nullopt);
    return;
  }
  if (deadline > now()) {
    m_advances.fetch_add(1, std::memory_order_relaxed);
    set(deadline);
  }
}

}  // namespace asp

#include <asp/detail/pacer.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

namespace asp::detail {

time_point pacer::paced(time_point due, time_point now) const noexcept {
  if (m_paused) return due <= now ? due : time_point::max();
  if (!m_rate || due == time_point::max()) return due;
  const auto offset = static_cast<long double>((due - m_anchor_virtual).count());
  const long double scaled = std::ceil(offset / static_cast<long double>(*m_rate));
  const long double limit = static_cast<long double>(std::numeric_limits<duration::rep>::max());
  if (scaled >= limit) return time_point::max();
  const time_point at = saturating_add(m_anchor_real, duration{static_cast<duration::rep>(scaled)});
  return std::max(at, due);
}

void pacer::apply(const pacing_request& change, time_point now) {
  // Where the paced timeline stands at the moment of the change.
  time_point position = now;
  if (m_on && !m_paused && m_rate && change.at > m_anchor_real) {
    const auto elapsed = static_cast<long double>((change.at - m_anchor_real).count());
    position = saturating_add(
        m_anchor_virtual,
        duration{static_cast<duration::rep>(elapsed * static_cast<long double>(*m_rate))});
  } else if (m_on && (m_paused || m_rate)) {
    position = m_anchor_virtual;
  }
  position = std::max(position, now);
  switch (change.what) {
    case pacing_request::kind::rate:
      if (m_paused) {
        m_rate = change.rate;
        m_anchor_virtual = position;
      } else {
        m_on = change.rate.has_value();
        m_rate = change.rate;
        m_anchor_real = change.at;
        m_anchor_virtual = position;
      }
      break;
    case pacing_request::kind::pause:
      if (!m_paused) {
        if (!m_on) m_rate.reset();
        m_on = true;
        m_paused = true;
        m_anchor_real = change.at;
        m_anchor_virtual = position;
      }
      break;
    case pacing_request::kind::resume:
      if (m_paused) {
        m_on = m_rate.has_value();
        m_paused = false;
        m_anchor_real = change.at;
      }
      break;
  }
}

}  // namespace asp::detail

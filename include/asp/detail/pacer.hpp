#pragma once

#include <asp/detail/remote.hpp>
#include <asp/time.hpp>

#include <optional>

namespace asp::detail {

/// Replay pacing (contract C9): off (as fast as possible), or `rate` times the original speed
/// from a pair of anchors — a real time and the virtual time it stands for — or paused. Every
/// change of rate, pause or resume re-bases the anchors where the paced timeline stands, so it
/// never jumps. The loop keeps one (src/pacer.cpp).
class pacer {
 public:
  /// Whether the loop paces: a rate is set, or the replay is paused.
  bool on() const noexcept { return m_on; }

  /// Whether the loop paces at `rate` and is not paused: a run with the same rate keeps the
  /// timeline.
  bool pacing_at(std::optional<double> rate) const noexcept {
    return m_on && !m_paused && m_rate == rate;
  }

  /// Paces at `rate` from now: virtual time `virtual_now` stands at real time `real_now`.
  void start(double rate, time_point real_now, time_point virtual_now) noexcept {
    *this = {};
    m_on = true;
    m_rate = rate;
    m_anchor_real = real_now;
    m_anchor_virtual = virtual_now;
  }

  /// The real time at which work due at `due` may run (at least `due` itself: pacing never
  /// holds work behind the real clock); time_point::max() while paused for work after `now`.
  time_point paced(time_point due, time_point now) const noexcept;

  /// Whether work due at `due` may run with the real clock at `real`.
  bool due_by(time_point due, time_point real, time_point now) const noexcept {
    return m_on ? paced(due, now) <= real : due <= real;
  }

  /// Applies a change of rate, a pause or a resume asked for at `change.at`; the loop's
  /// virtual time is `now`.
  void apply(const pacing_request& change, time_point now);

 private:
  bool m_on = false;
  bool m_paused = false;
  std::optional<double> m_rate;
  time_point m_anchor_real{};
  time_point m_anchor_virtual{};
};

}  // namespace asp::detail

#pragma once

#include <asp/backend.hpp>
#include <asp/time.hpp>

#include <atomic>
#include <cstdint>
#include <optional>

namespace asp {

/// The loop's *real clock* (DESIGN §1): where "now" is in the world, and how to wait for a
/// later moment. The loop reads it only when it has run out of work that is already due, so
/// its cost never lands on the replay path.
///
/// `now()` must be callable from any thread (producers stamp live events with it) and must
/// never decrease.
class clock {
 public:
  virtual ~clock() = default;

  /// The current real time. Thread-safe, never decreases.
  virtual time_point now() const noexcept = 0;

  /// Blocks on `b` until `now() >= deadline` or until `b` is woken, whichever comes first.
  /// `time_point::max()` means no deadline. May return early; the loop re-checks.
  virtual void wait_until(time_point deadline, backend& b) = 0;

  /// For a host loop that cannot block: moves a clock that is not waited for (a manual clock)
  /// to `deadline` at once and returns true; a real clock returns false, and the host waits.
  virtual bool skip_to(time_point deadline) noexcept {
    (void)deadline;
    return false;
  }
};

/// The default real clock: wall time read once at construction, then advanced with
/// `std::chrono::steady_clock`, so an NTP step never moves ASP's time backwards.
class system_clock final : public clock {
 public:
  system_clock() noexcept;
  /// A real clock that reads `start` now and then advances with the steady clock: real time
  /// shifted, e.g. far into the future so that any file replays as the past (the `asp play`
  /// tool does this).
  explicit system_clock(time_point start) noexcept;

  time_point now() const noexcept override;
  void wait_until(time_point deadline, backend& b) override;

 private:
  time_point m_wall_at_start;
  std::chrono::steady_clock::time_point m_steady_at_start;
};

/// A clock that moves only when told to, for deterministic tests of live behaviour.
///
/// When the loop would wait for a later deadline, the manual clock first looks for a pending
/// wake-up (without blocking); if there is none it jumps straight to the deadline and counts
/// an *advance*. Only when the loop would wait forever (nothing scheduled, live sources open)
/// does it block for real, until another thread posts, pushes or stops. So live behaviour
/// runs in zero real time and exactly.
class manual_clock final : public clock {
 public:
  /// Starts at `start`.
  explicit manual_clock(time_point start) noexcept : m_now(start.time_since_epoch().count()) {}

  time_point now() const noexcept override {
    return time_point{duration{m_now.load(std::memory_order_acquire)}};
  }

  /// Moves the clock to `t`; a `t` earlier than now() is ignored (the clock never decreases).
  void set(time_point t) noexcept;

  /// Moves the clock forward by `d` (a negative `d` is ignored).
  void advance(duration d) noexcept;

  void wait_until(time_point deadline, backend& b) override;

  /// Jumps to `deadline` (counted as an advance) and returns true.
  bool skip_to(time_point deadline) noexcept override;

  /// How many times a waiting loop made this clock jump to a deadline.
  std::uint64_t advances() const noexcept { return m_advances.load(std::memory_order_relaxed); }

  /// How many times a waiting loop blocked for real, with no deadline, for another thread.
  std::uint64_t blocks() const noexcept { return m_blocks.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> m_now;
  std::atomic<std::uint64_t> m_advances{0};
  std::atomic<std::uint64_t> m_blocks{0};
};

}  // namespace asp

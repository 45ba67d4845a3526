#pragma once

#include <asp/loop.hpp>
#include <asp/sleep.hpp>
#include <asp/task.hpp>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <type_traits>

namespace asp {

/// What a periodic timer does with ticks it is late for once the loop is live.
///
/// In replay every tick fires at its exact virtual time, whatever the policy: being "behind"
/// the real clock is what replay is. The policy applies only after the loop has turned live
/// (`loop::is_live()`), when a slow callback or a stalled machine leaves the next tick behind
/// the real clock.
enum class catch_up {
  fire_all,  ///< fire every missed tick, each with its own time, one after another at once
  skip,      ///< skip missed ticks: resume at the first tick on the grid at or after real time
};

/// Optional parts of a periodic timer.
struct timer_options {
  /// First tick; defaults to `now()` when the timer starts.
  std::optional<time_point> start{};
  /// Ticks are strictly before `end`; without it the timer runs until cancelled.
  std::optional<time_point> end{};
  catch_up policy = catch_up::fire_all;
  /// Counts ticks skipped under `catch_up::skip` (optional).
  std::uint64_t* skipped = nullptr;
};

namespace detail {

template <class F>
task<void> run_timer(duration interval, F callback, timer_options options) {
  loop& l = current_loop();
  const time_point first = options.start.value_or(l.now());
  const time_point end = options.end.value_or(time_point::max());
  for (time_point tick = first; tick < end;) {
    co_await sleep_until(tick);
    task<void> pending =
        call_async([&]() -> decltype(auto) { return invoke_with_time(callback, tick); });
    if (pending.valid()) co_await std::move(pending);
    if (tick > time_point::max() - interval) break;
    tick += interval;
    if (options.policy == catch_up::skip && l.is_live()) {
      const time_point real = l.clock().now();
      if (tick < real) {
        const auto missed =
            static_cast<std::uint64_t>((real - tick + interval - duration{1}) / interval);
        tick += interval * static_cast<std::int64_t>(missed);
        if (options.skipped != nullptr) *options.skipped += missed;
      }
    }
  }
}

}  // namespace detail

/// A periodic timer: calls `callback(tick)` (or `callback()`) at `start`, `start + interval`,
/// ... strictly before `end`. A coroutine callback is awaited before the next tick is
/// scheduled. The returned task runs the timer when spawned or awaited; cancel it (or drop the
/// awaiting task) to stop the timer. Late ticks follow `policy` once live (see catch_up).
/// Throws std::invalid_argument at once if `interval` is not positive. Each tick costs no heap
/// allocation.
template <class F>
task<void> timer(duration interval, F callback, timer_options options = {}) {
  if (interval <= duration::zero()) {
    throw std::invalid_argument("asp::timer: the interval must be positive");
  }
  return detail::run_timer(interval, std::move(callback), std::move(options));
}

/// The original's signature: `timer(interval, callback, start, end)`.
template <class F>
task<void> timer(duration interval, F callback, std::optional<time_point> start,
                 std::optional<time_point> end = {}, catch_up policy = catch_up::fire_all) {
  return timer(interval, std::move(callback), timer_options{start, end, policy, nullptr});
}

}  // namespace asp

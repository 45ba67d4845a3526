#pragma once

#include <asp/hook.hpp>
#include <asp/time.hpp>

#include <chrono>
#include <optional>

namespace asp {

/// How one call of `loop::run` (or `loop::poll`) starts, ends, reports and paces.
struct run_options {
  /// The virtual time the run starts at. Without it, the first run starts at the earlier of
  /// the real time and the earliest work already scheduled (contract C3), so history
  /// replays on history's clock. Work due before the start runs first, in its own order, with
  /// `now()` at the start. A later run continues from where the previous one left `now()`.
  std::optional<time_point> start{};

  /// The run returns once all work due at or before `end` has run, leaving later work pending
  /// (a later run continues it), and `now()` at `end` once the real clock has reached it.
  std::optional<time_point> end{};

  /// Called once per loop, at the moment it turns live: the first time the earliest work lies
  /// ahead of the real clock and the loop is about to wait. Receives `now()`. A coroutine
  /// function's task is spawned.
  hook<time_point> on_live{};

  /// How fast history replays (contract C9), from the start of this run: `rate` times the
  /// original speed (1.0 is real time, 10.0 ten times faster, 0.5 half speed; must be
  /// positive). Without it, or when the loop already paces at this rate (a host passing the
  /// same options to every `poll`, a run after a stop), the loop keeps its current pacing and
  /// its timeline: as fast as possible, unless a rate was set before. Under pacing, work due at
  /// virtual time v runs once the real clock reaches `anchor_real + (v - anchor_virtual) /
  /// rate` — or v itself when that is later: pacing ends where the real clock is reached, and
  /// the loop is live. The anchors are the run's start and every later change of rate, pause
  /// or resume, so the paced timeline never jumps. `now()` still shows each work's due time.
  std::optional<double> rate{};

  /// Before the loop sleeps waiting for input from other threads, it polls its inbox for up to
  /// this long of real time (never past the real time its next work is due): a post that
  /// arrives meanwhile costs neither the posting thread nor the loop a system call, and runs
  /// sooner. For a feed handler that would rather spend a core than latency. Zero, the default,
  /// sleeps at once. On a manual clock each jump then waits this long in real time first.
  std::chrono::nanoseconds busy_poll{0};
};

}  // namespace asp

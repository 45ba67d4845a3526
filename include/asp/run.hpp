#pragma once

#include <asp/loop.hpp>
#include <asp/spawn.hpp>
#include <asp/stream.hpp>
#include <asp/task.hpp>

#include <utility>

namespace asp {

/// Creates a loop on the system clock, runs `main` on it and returns its value — the
/// counterpart of `asyncio.run`.
template <class T>
T run(task<T> main, run_options options = {}) {
  loop l;
  return l.run(std::move(main), std::move(options));
}

/// The original's `asp.run([...], start_time)`: creates a loop on the system clock, starts
/// every stream (from process_stream) and spawns every task, and runs until all are done (or
/// `options.end`). The first failure is rethrown as asp::run_error.
template <class... Work>
void run(run_options options, Work... work) {
  loop l;
  l.run(std::move(options), std::move(work)...);
}

/// The real clock of the running loop, read now: what a live source stamps its events with.
inline time_point real_now() {
  return current_loop().clock().now();
}

}  // namespace asp

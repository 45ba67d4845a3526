#pragma once

#include <asp/loop.hpp>
#include <asp/task.hpp>

#include <utility>

namespace asp {

/// Creates a loop on the system clock, runs `main` on it and returns its value — the
/// counterpart of the original's `asp.run(...)` and of `asyncio.run`.
template <class T>
T run(task<T> main, run_options options = {}) {
  loop l;
  return l.run(std::move(main), std::move(options));
}

/// Creates a loop on the system clock, spawns every task and runs until all are done (or
/// `options.end`). The first failure is rethrown as asp::run_error.
template <class... T>
void run(run_options options, task<T>... tasks) {
  loop l;
  (l.spawn(std::move(tasks)).detach(), ...);
  l.run(std::move(options));
}

}  // namespace asp

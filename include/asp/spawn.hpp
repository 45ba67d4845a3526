#pragma once

#include <asp/detail/loop_access.hpp>
#include <asp/join_handle.hpp>
#include <asp/loop.hpp>
#include <asp/task.hpp>

#include <optional>
#include <string>
#include <utility>

namespace asp {

/// Runs `body` on `l` as a task of its own, starting after the work already due now (at the
/// start of the run when called before it), or at `at` when given. `name` appears in errors.
template <class T>
join_handle<T> spawn(loop& l, task<T> body, std::string name = {},
                     std::optional<time_point> at = {}) {
  return detail::loop_access::spawn(l, std::move(body), std::move(name), at);
}

/// asp::spawn on the running loop.
template <class T>
join_handle<T> spawn(task<T> body, std::string name = {}) {
  return spawn(current_loop(), std::move(body), std::move(name));
}

}  // namespace asp

#pragma once

#include <asp/time.hpp>

#include <exception>
#include <stdexcept>
#include <string>

namespace asp {

/// Thrown from `loop::run` when user code fails: a callback, a coroutine, a stream callback.
///
/// `what()` says where and when — "stream 'quotes', event #12 (2020-01-01T00:00:01.000000000Z)
/// at virtual time 2020-01-01T00:00:01.000000000Z: <original message>" — and the original
/// exception is nested: `std::rethrow_if_nested(e)` (or `e.rethrow_nested()`) throws it with
/// its own type. The run stops at the first failure; everything still pending is destroyed.
class run_error : public std::runtime_error, public std::nested_exception {
 public:
  /// Must be constructed while the original exception is being handled (it is captured).
  run_error(std::string where, time_point at, const std::string& message)
      : std::runtime_error(message), m_where(std::move(where)), m_at(at) {}

  /// Which piece of user code failed: "task 'name'", "stream 'quotes', event #3", ...
  const std::string& where() const noexcept { return m_where; }

  /// The loop's virtual time when it failed.
  time_point at() const noexcept { return m_at; }

 private:
  std::string m_where;
  time_point m_at;
};

/// The outcome of a task that was cancelled before it finished, rethrown to whoever joins it.
/// Cancellation is not an error of the run: a cancelled task that nobody joins is silent.
class cancelled : public std::runtime_error {
 public:
  cancelled() : std::runtime_error("asp: the task was cancelled") {}
};

/// Thrown by stream sources whose input breaks a rule: events out of time order, a full
/// channel whose policy is to fail, a malformed record. The message names the stream, the
/// event index and the times (or file and line) involved.
class input_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace asp

#pragma once

#include <asp/time.hpp>

#include <exception>
#include <string>

namespace asp::detail {

/// A run's first failure: the exception that escaped user code, what it escaped from (a
/// callback, a task, a stream, a hook) and the virtual time. Later failures of the same run
/// are dropped: the first is the cause (src/failure.cpp).
class failure_record {
 public:
  /// Whether a failure is kept.
  explicit operator bool() const noexcept { return m_error != nullptr; }

  /// Keeps the failure unless one is kept already.
  void record(std::exception_ptr error, std::string where, time_point at) noexcept {
    if (m_error) return;
    m_error = std::move(error);
    m_where = std::move(where);
    m_at = at;
  }

  /// Throws the kept failure as asp::run_error — "asp: WHERE, at virtual time T: WHAT", the
  /// exception nested — and forgets it.
  [[noreturn]] void rethrow();

 private:
  std::exception_ptr m_error;
  std::string m_where;
  time_point m_at{};
};

}  // namespace asp::detail

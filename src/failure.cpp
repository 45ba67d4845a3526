#include <asp/detail/failure.hpp>
#include <asp/error.hpp>

#include <utility>

namespace asp::detail {

void failure_record::rethrow() {
  const std::exception_ptr error = std::exchange(m_error, nullptr);
  const std::string where = std::move(m_where);
  const std::string prefix = "asp: " + where + ", at virtual time " + to_string(m_at) + ": ";
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    throw run_error(where, m_at, prefix + e.what());
  } catch (...) {
    throw run_error(where, m_at, prefix + "an exception not derived from std::exception");
  }
}

}  // namespace asp::detail

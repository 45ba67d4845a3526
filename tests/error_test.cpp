// asp::run_error: what failed, when, and the original exception nested.
#include <asp/error.hpp>

#include <asp/asp.hpp>

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "test_support.hpp"

namespace {

using namespace asp::testing;

TEST(RunError, SaysWhereAndWhenAndNestsTheOriginal) {
  manual_loop m;
  m.loop.call_at(t0 + 2s, [] { throw std::out_of_range("no such symbol"); });
  const asp::run_error e = run_error_of([&] { m.loop.run(); });
  EXPECT_EQ(e.at(), t0 + 2s);
  EXPECT_TRUE(e.where().starts_with("callback "));
  EXPECT_TRUE(e.where().ends_with(" due at 2025-01-01T00:00:02.000000000Z"));
  EXPECT_TRUE(std::string(e.what()).ends_with(
      ", at virtual time 2025-01-01T00:00:02.000000000Z: no such symbol"));
  EXPECT_THROW(e.rethrow_nested(), std::out_of_range);
}

TEST(RunError, AnExceptionNotDerivedFromStdExceptionIsStillReported) {
  manual_loop m;
  m.loop.call_at(t0, [] { throw 42; });
  const asp::run_error e = run_error_of([&] { m.loop.run(); });
  EXPECT_TRUE(std::string(e.what()).ends_with(": an exception not derived from std::exception"));
  EXPECT_THROW(e.rethrow_nested(), int);
}

TEST(Cancelled, SaysTheTaskWasCancelled) {
  EXPECT_STREQ(asp::cancelled{}.what(), "asp: the task was cancelled");
}

}  // namespace

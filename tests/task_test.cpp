#include <asp/task.hpp>

#include <asp/asp.hpp>

#include <gtest/gtest.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace asp::testing;

struct Task : ::testing::Test {
  asp::manual_clock clock{t0 + 24h};
  asp::loop loop{clock};
};

asp::task<int> answer(int& started) {
  ++started;
  co_return 42;
}

TEST_F(Task, DoesNotStartUntilAwaited) {
  int started = 0;
  asp::task<int> t = answer(started);
  EXPECT_EQ(started, 0);
  EXPECT_FALSE(t.done());
  auto outer = [&]() -> asp::task<int> { co_return co_await std::move(t) + 1; };
  EXPECT_EQ(loop.run(outer()), 43);
  EXPECT_EQ(started, 1);
}

TEST_F(Task, ExceptionIsRethrownAtCoAwait) {
  auto inner = []() -> asp::task<int> {
    throw std::invalid_argument("bad input");
    co_return 0;
  };
  auto outer = [&]() -> asp::task<std::string> {
    try {
      co_await inner();
    } catch (const std::invalid_argument& e) {
      co_return std::string("caught ") + e.what();
    }
    co_return "not caught";
  };
  EXPECT_EQ(loop.run(outer()), "caught bad input");
}

TEST_F(Task, UncaughtExceptionOfMainIsRethrownFromRunWithContext) {
  auto main_task = []() -> asp::task<void> {
    co_await asp::sleep(2s);
    throw std::out_of_range("no such symbol");
  };
  const asp::run_error e = run_error_of([&] { loop.run(main_task(), {.start = t0}); });
  EXPECT_EQ(std::string(e.what()),
            "asp: task 'main', at virtual time 2025-01-01T00:00:02.000000000Z: no such symbol");
  EXPECT_THROW(e.rethrow_nested(), std::out_of_range);
}

}  // namespace

// asp::async_generator: a coroutine that awaits and yields, read with co_await next().
#include <asp/async_generator.hpp>

#include <asp/asp.hpp>

#include <gtest/gtest.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace asp::testing;

struct AsyncGenerator : ::testing::Test, manual_loop {};

TEST_F(AsyncGenerator, YieldsValuesAtTheVirtualTimesItSleepsTo) {
  auto ticks = []() -> asp::async_generator<int> {
    for (int i = 0; i < 3; ++i) {
      co_await asp::sleep(1s);
      co_yield i;
    }
  };
  std::vector<std::pair<int, double>> got;
  auto consume = [&]() -> asp::task<void> {
    asp::async_generator<int> g = ticks();
    while (std::optional<int> v = co_await g.next()) got.emplace_back(*v, secs(asp::now()));
  };
  loop.run(consume(), {.start = t0});
  EXPECT_EQ(got, (std::vector<std::pair<int, double>>{{0, 1}, {1, 2}, {2, 3}}));
}

TEST_F(AsyncGenerator, IsLazyAndEndsWithNullopt) {
  int started = 0;
  auto one = [&started]() -> asp::async_generator<std::string> {
    ++started;
    std::string v = "only";
    co_yield v;
  };
  auto consume = [&]() -> asp::task<int> {
    asp::async_generator<std::string> g = one();
    EXPECT_EQ(started, 0);
    EXPECT_EQ(co_await g.next(), std::optional<std::string>("only"));
    EXPECT_EQ(co_await g.next(), std::nullopt);
    co_return started;
  };
  EXPECT_EQ(loop.run(consume()), 1);
}

TEST_F(AsyncGenerator, AnExceptionInTheBodyIsRethrownFromNext) {
  auto broken = []() -> asp::async_generator<int> {
    co_await asp::sleep(1s);
    throw std::runtime_error("connection reset");
    co_yield 0;
  };
  auto consume = [&]() -> asp::task<std::string> {
    asp::async_generator<int> g = broken();
    try {
      co_await g.next();
    } catch (const std::runtime_error& e) {
      co_return e.what();
    }
    co_return "";
  };
  EXPECT_EQ(loop.run(consume()), "connection reset");
}

}  // namespace

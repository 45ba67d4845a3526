// asp::generator: a lazy input range produced by a coroutine.
#include <asp/generator.hpp>

#include <asp/asp.hpp>

#include <gtest/gtest.h>

#include <ranges>
#include <stdexcept>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace asp::testing;

asp::generator<int> count_to(int n, int& produced) {
  for (int i = 1; i <= n; ++i) {
    ++produced;
    co_yield i;
  }
}

TEST(Generator, ProducesElementsOnlyAsItIsIterated) {
  int produced = 0;
  asp::generator<int> g = count_to(3, produced);
  EXPECT_EQ(produced, 0);
  auto it = g.begin();
  EXPECT_EQ(produced, 1);
  EXPECT_EQ(*it, 1);
  ++it;
  EXPECT_EQ(produced, 2);
  std::vector<int> rest;
  for (; it != g.end(); ++it) rest.push_back(*it);
  EXPECT_EQ(rest, (std::vector<int>{2, 3}));
}

TEST(Generator, IsAnInputRange) {
  static_assert(std::ranges::input_range<asp::generator<int>>);
  int produced = 0;
  std::vector<int> got;
  for (int v : count_to(4, produced)) got.push_back(v);
  EXPECT_EQ(got, (std::vector<int>{1, 2, 3, 4}));
}

TEST(Generator, AnExceptionInTheBodyIsRethrownWhereItIsAdvanced) {
  auto broken = []() -> asp::generator<int> {
    co_yield 1;
    throw std::runtime_error("line 2: not a number");
  };
  asp::generator<int> g = broken();
  auto it = g.begin();
  EXPECT_EQ(*it, 1);
  EXPECT_THROW(++it, std::runtime_error);
}

TEST(Generator, DestroyingItUnfinishedDestroysTheBody) {
  int alive = 0;
  auto endless = [&alive]() -> asp::generator<int> {
    lifetime_counter c(alive);
    for (int i = 0;; ++i) co_yield i;
  };
  {
    asp::generator<int> g = endless();
    EXPECT_EQ(*g.begin(), 0);
    EXPECT_EQ(alive, 1);
  }
  EXPECT_EQ(alive, 0);
}

}  // namespace

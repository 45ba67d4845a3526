// asp::time_point: formatting, and arithmetic that saturates.
#include <asp/time.hpp>

#include <asp/asp.hpp>

#include <gtest/gtest.h>

#include "test_support.hpp"

namespace {

using namespace asp::testing;

TEST(Time, FormatsIso8601WithNanoseconds) {
  EXPECT_EQ(asp::to_string(t0 + 1s + 5ns), "2025-01-01T00:00:01.000000005Z");
  EXPECT_EQ(asp::to_string(asp::time_point{}), "1970-01-01T00:00:00.000000000Z");
  EXPECT_EQ(asp::format_time_of_day(t0 + 13h + 2min + 3s + 456789123ns), "13:02:03.456789");
}

TEST(Time, SaturatingAddClampsInsteadOfWrapping) {
  EXPECT_EQ(asp::saturating_add(t0, 1s), t0 + 1s);
  EXPECT_EQ(asp::saturating_add(t0, asp::duration::max()), asp::time_point::max());
  EXPECT_EQ(asp::saturating_add(asp::time_point::min() + 1s, -2s), asp::time_point::min());
  EXPECT_EQ(asp::saturating_add(asp::time_point::max(), -1ns), asp::time_point::max() - 1ns);
}

TEST(Time, ToStringCoversTheWholeRange) {
  EXPECT_EQ(asp::to_string(asp::time_point::min()), "1677-09-21T00:12:43.145224192Z");
  EXPECT_EQ(asp::to_string(asp::time_point::max()), "2262-04-11T23:47:16.854775807Z");
  EXPECT_EQ(asp::to_string(asp::time_point{} - 1ns), "1969-12-31T23:59:59.999999999Z");
  EXPECT_EQ(asp::format_time_of_day(asp::time_point{} - 1ns), "23:59:59.999999");
}

}  // namespace

// asp::run, the original's entry point.
#include <asp/run.hpp>

#include <asp/asp.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace asp::testing;

TEST(Run, TheOriginalsEntryPointRunsStreamsAndTasksToCompletion) {
  std::vector<std::string> got;
  auto task_body = [&]() -> asp::task<void> {
    co_await asp::sleep_until(t0 + 1500ms);
    got.push_back("task at " + std::to_string(secs(asp::now())));
  };
  asp::run({},
           asp::process_stream(
               [&](asp::time_point t, int v) {
                 got.push_back("event " + std::to_string(v) + " at " + std::to_string(secs(t)));
               },
               std::vector<asp::event<int>>{{t0 + 1s, 1}, {t0 + 2s, 2}}),
           task_body());
  EXPECT_EQ(got, (std::vector<std::string>{"event 1 at 1.000000", "task at 1.500000",
                                           "event 2 at 2.000000"}));
}

}  // namespace

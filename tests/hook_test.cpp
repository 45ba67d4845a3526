// asp::hook: a stored callback that may be plain or a coroutine function.
#include <asp/hook.hpp>

#include <asp/asp.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace asp::testing;

TEST(Hook, APlainCallableRunsAtOnceAndLeavesNothingToAwait) {
  int called = 0;
  asp::hook<int> h = [&called](int n) { called += n; };
  ASSERT_TRUE(h);
  asp::task<void> rest = h(2);
  EXPECT_EQ(called, 2);
  EXPECT_FALSE(rest.valid());
}

TEST(Hook, ACoroutineFunctionReturnsItsTaskNotYetStarted) {
  manual_loop m;
  std::vector<std::string> log;
  asp::hook<std::string> h = [&log](std::string name) -> asp::task<void> {
    log.push_back("start " + name);
    co_await asp::sleep(1s);
    log.push_back("end " + name + " at " + std::to_string(secs(asp::now())));
  };
  asp::task<void> t = h(std::string("warm-up"));  // the argument is a temporary: it is kept
  EXPECT_TRUE(log.empty());
  m.loop.run(std::move(t), {.start = t0});
  EXPECT_EQ(log, (std::vector<std::string>{"start warm-up", "end warm-up at 1.000000"}));
}

TEST(Hook, ACoroutineReturningAValueIsAwaitedForItsEffect) {
  manual_loop m;
  int got = 0;
  asp::hook<> h = [&got]() -> asp::task<int> {
    got = 7;
    co_return 7;
  };
  m.loop.run(h());
  EXPECT_EQ(got, 7);
}

TEST(Hook, AnEmptyHookIsFalse) {
  asp::hook<> h;
  EXPECT_FALSE(h);
}

}  // namespace

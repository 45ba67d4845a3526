// Handles, channels, guards and loops destroyed in every order: nothing dangles (run under ASan
// in CI), and what is used after its loop is gone says so instead of touching freed memory.
#include <asp/asp.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace asp::testing;

asp::task<int> value_after(asp::duration delay, int value) {
  co_await asp::sleep(delay);
  co_return value;
}

TEST(Lifetime, TimerHandlesOutlivingTheLoopCancelNothing) {
  asp::manual_clock clock{t0};
  std::vector<asp::timer_handle> handles;
  {
    asp::loop loop{clock};
    handles.push_back(loop.call_at(t0 + 1s, [] {}));
    handles.push_back(handles.back());  // a copy names the same work
    EXPECT_TRUE(handles[1].pending());
  }
  EXPECT_FALSE(handles[0].pending());
  EXPECT_FALSE(handles[0].cancel());
  EXPECT_FALSE(handles[1].cancel());
}

TEST(Lifetime, JoinHandlesOutlivingTheLoopSeeTheirTasksCancelled) {
  asp::manual_clock clock{t0};
  std::vector<asp::join_handle<int>> handles;
  {
    asp::loop loop{clock};
    handles.push_back(asp::spawn(loop, value_after(1s, 1)));
    handles.push_back(asp::spawn(loop, value_after(1h, 2)));
    loop.run({.start = t0, .end = t0 + 2s});
  }
  ASSERT_TRUE(handles[0].done());
  EXPECT_EQ(handles[0].result(), 1);
  ASSERT_TRUE(handles[1].done());
  EXPECT_THROW(handles[1].result(), asp::cancelled);
  EXPECT_FALSE(handles[1].cancel());
  handles.clear();  // detaching after the loop is gone is harmless
}

TEST(Lifetime, HandlesDestroyedBeforeTheLoopWhileAJoinerAwaitsThem) {
  // Declared after the loop, so destroyed first; the loop's destructor then destroys the joiner
  // still waiting on one of them.
  asp::manual_clock clock{t0};
  asp::loop loop{clock};
  int got = 0;
  auto joiner = [&](asp::join_handle<int>& h) -> asp::task<void> { got = co_await h; };
  {
    std::vector<asp::join_handle<int>> handles;
    handles.push_back(asp::spawn(loop, value_after(1h, 1)));
    asp::spawn(loop, joiner(handles.back()), "joiner").detach();
    loop.run({.start = t0, .end = t0 + 1s});
  }
  EXPECT_EQ(got, 0);
}

TEST(Lifetime, AnOpenChannelMayOutliveItsLoop) {
  asp::manual_clock clock{t0};
  std::optional<asp::channel<int>> ch;
  {
    asp::loop loop{clock};
    ch.emplace(loop);
    ch->push(t0, 1);
  }
  EXPECT_EQ(ch->size(), 1u);
  try {
    ch->push(t0, 2);
    FAIL() << "push after the loop was destroyed did not throw";
  } catch (const std::logic_error& e) {
    EXPECT_STREQ(e.what(), "asp: push to the channel 'channel' after its loop was destroyed");
  }
  ch->close();
  ch.reset();
}

TEST(Lifetime, AChannelWithAWaitingConsumerMayOutliveItsLoop) {
  asp::manual_clock clock{t0};
  std::optional<asp::channel<int>> ch;
  std::vector<int> got;
  {
    asp::loop loop{clock};
    ch.emplace(loop);
    asp::start(loop, asp::process_stream([&](asp::time_point, int v) { got.push_back(v); },
                                         asp::none, *ch))
        .detach();
    ch->push(t0, 1);
    loop.call_at(t0 + 1s, [&] { loop.stop(); });
    loop.run({.start = t0});
  }
  EXPECT_EQ(got, (std::vector<int>{1}));
  EXPECT_THROW(ch->push(t0 + 2s, 2), std::logic_error);
}

TEST(Lifetime, AWorkGuardMayOutliveItsLoopAndBeReleasedFromAnotherThread) {
  asp::manual_clock clock{t0};
  std::optional<asp::work_guard> guard;
  {
    asp::loop loop{clock};
    guard.emplace(loop.hold());
  }
  std::thread releaser([&] { guard->reset(); });
  releaser.join();
}

TEST(Lifetime, ChannelsAndHandlesDestroyedBeforeTheLoopReleaseItsRun) {
  asp::manual_clock clock{t0};
  asp::loop loop{clock};
  {
    asp::channel<int> ch(loop);
    asp::timer_handle timer = loop.call_at(t0 + 1s, [] {});
    timer.cancel();
    ch.close();
  }
  loop.run({.start = t0});
  EXPECT_EQ(loop.now(), t0);
}

TEST(Lifetime, TaskFramesSuspendedOnASleepMayOutliveTheLoop) {
  // A generator advanced by a task of the loop and owned outside it: its sleep's wake-up is
  // cancelled on a loop that is gone.
  asp::manual_clock clock{t0};
  auto ticks = []() -> asp::async_generator<int> {
    for (int i = 0;; ++i) {
      co_await asp::sleep(1s);
      co_yield i;
    }
  };
  std::optional<asp::async_generator<int>> gen{ticks()};
  std::vector<int> got;
  {
    asp::loop loop{clock};
    auto consume = [&]() -> asp::task<void> {
      while (auto v = co_await gen->next()) got.push_back(*v);
    };
    asp::spawn(loop, consume(), "consumer").detach();
    loop.run({.start = t0, .end = t0 + 2500ms});
  }
  EXPECT_EQ(got, (std::vector<int>{0, 1}));
  gen.reset();
}

}  // namespace

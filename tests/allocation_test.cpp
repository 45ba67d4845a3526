// Counts every heap allocation in this executable, to show that steady-state timers, sleeps
// and periodic ticks allocate nothing.
#include <asp/asp.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <ranges>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {
std::atomic<long> g_allocations{0};
}

// The replacements below pair malloc with free on purpose.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}

namespace {

using namespace asp::testing;

struct Allocations : ::testing::Test {
  asp::manual_clock clock{t0 + std::chrono::days(1000)};
  asp::loop loop{clock};
};

// A callable of 40 bytes re-arms itself: call_later + fire, 100 000 times.
struct rearm {
  asp::loop* l;
  long* count;
  long limit;
  long* allocations_at_warm;
  long padding = 0;
  void operator()() const {
    if (++*count == 1000) *allocations_at_warm = g_allocations.load();
    if (*count < limit) l->call_later(1s, *this);
  }
};

TEST_F(Allocations, NoneForSmallCallbackTimersInSteadyState) {
  long count = 0;
  long at_warm = 0;
  loop.call_at(t0, rearm{&loop, &count, 101000, &at_warm});
  loop.run();
  ASSERT_EQ(count, 101000);
  EXPECT_EQ(g_allocations.load() - at_warm, 0);
}

TEST_F(Allocations, NoneForSleepingCoroutinesOrPeriodicTicksInSteadyState) {
  long ticks = 0;
  long at_warm = 0;
  auto sleeper = [&]() -> asp::task<void> {
    for (int i = 0; i < 100000; ++i) co_await asp::sleep(1ms);
  };
  asp::spawn(loop, asp::timer(
                       1s,
                       [&] {
                         if (++ticks == 1000) at_warm = g_allocations.load();
                       },
                       t0, t0 + 100000s))
      .detach();
  asp::spawn(loop, sleeper()).detach();
  loop.run();
  ASSERT_EQ(ticks, 100000);
  EXPECT_EQ(g_allocations.load() - at_warm, 0);
}

TEST_F(Allocations, NonePerEventForAVectorStreamWithAPlainCallback) {
  std::vector<asp::event<long>> past;
  for (long i = 0; i < 200000; ++i) past.push_back({t0 + std::chrono::microseconds(i), i});
  // A second stream interleaves, so events also go through the queue, not only the fast path.
  std::vector<asp::event<long>> other;
  for (long i = 0; i < 200000; i += 7) other.push_back({t0 + std::chrono::microseconds(i), -i});
  long seen = 0;
  long at_warm = 0;
  asp::start(loop, asp::process_stream(
                       [&](asp::time_point, long) {
                         if (++seen == 1000) at_warm = g_allocations.load();
                       },
                       std::views::all(past)))
      .detach();
  loop.run({}, asp::process_stream([](asp::time_point, long) {}, std::views::all(other)));
  ASSERT_EQ(seen, 200000);
  EXPECT_EQ(g_allocations.load() - at_warm, 0);
}

// Another thread posts small callables, 500 at a time, waiting for the loop to run each
// batch: once the inbox has gone through a few of its blocks (each read block is kept for the
// next link) and the loop's queue has grown to a batch, posting allocates nothing.
TEST_F(Allocations, NoneForPostsFromAnotherThreadInSteadyState) {
  constexpr long batch = 500;
  constexpr long rounds = 40;  // 20,000 posts: about twenty blocks of the inbox
  std::atomic<long> ran{0};
  long at_warm = 0;
  long at_end = 0;
  asp::work_guard guard = loop.hold();
  std::thread producer([&] {
    for (long round = 0; round < rounds; ++round) {
      if (round == 10) at_warm = g_allocations.load();
      for (long i = 0; i < batch; ++i) {
        loop.post([&ran] { ran.fetch_add(1, std::memory_order_release); });
      }
      while (ran.load(std::memory_order_acquire) < (round + 1) * batch) std::this_thread::yield();
    }
    at_end = g_allocations.load();
    loop.post([&guard] { guard.reset(); });
  });
  loop.run();
  producer.join();
  ASSERT_EQ(ran.load(), rounds * batch);
  EXPECT_EQ(at_end - at_warm, 0);
}

}  // namespace

// Other threads talk to the loop through post, stop and work guards. The manual clock makes the
// loop block for real only when nothing is scheduled, so these tests never sleep.
#include <asp/asp.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <memory>
#include <optional>
#include <ranges>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace asp::testing;

struct Threads : ::testing::Test {
  asp::manual_clock clock{t0};
  asp::loop loop{clock};
};

TEST_F(Threads, StopFromAnotherThreadEndsABlockedRun) {
  asp::work_guard guard = loop.hold();  // nothing scheduled, yet the run must go on
  std::thread stopper([&] { loop.stop(); });
  loop.run();
  stopper.join();
  EXPECT_EQ(loop.stats().runs, 0u);
}

TEST_F(Threads, StopBeforeTheRunEndsTheNextRunAtOnce) {
  int ran = 0;
  loop.call_soon([&] { ++ran; });
  loop.stop();
  loop.run();
  EXPECT_EQ(ran, 0);
  loop.run();  // the request was consumed
  EXPECT_EQ(ran, 1);
}

TEST_F(Threads, PostsFromAnotherThreadRunInOrderWithTheirStamps) {
  asp::work_guard guard = loop.hold();
  std::vector<int> got;
  std::vector<asp::time_point> stamps;
  std::thread producer([&] {
    for (int i = 0; i < 1000; ++i) {
      loop.post([&got, &stamps, i](asp::time_point stamp) {
        got.push_back(i);
        stamps.push_back(stamp);
      });
    }
    loop.post([&guard] { guard.reset(); });  // released on the loop's thread
  });
  loop.run();
  producer.join();
  ASSERT_EQ(got.size(), 1000u);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(got[static_cast<std::size_t>(i)], i);
  for (asp::time_point s : stamps) EXPECT_EQ(s, t0);
}

TEST_F(Threads, C6_WorkPostedFromAnotherThreadDuringReplayIsTakenBeforeAnyLaterWork) {
  // The loop replays a day-old history while another thread posts work stamped in that
  // history; once the post has returned, nothing due later may run before it.
  const asp::time_point b = t0 - 24h;
  std::vector<std::string> order;
  for (int i = 1; i <= 4; ++i) {
    loop.call_at(b + std::chrono::seconds(i), [&order, &loop = loop, b, i] {
      order.push_back("timer " + std::to_string(i));
      if (i == 2) {
        std::thread producer([&] {
          loop.post_at(b + 2500ms, [&](asp::time_point stamp) {
            order.push_back("posted " + std::to_string(secs(stamp) + 24 * 3600) + " now " +
                            std::to_string(secs(loop.now()) + 24 * 3600));
          });
        });
        producer.join();
      }
    });
  }
  loop.run();
  EXPECT_EQ(order, (std::vector<std::string>{"timer 1", "timer 2", "posted 2.500000 now 2.500000",
                                             "timer 3", "timer 4"}));
}

// A burst of posts taken while the loop runs takes its place by (stamp, sequence): after the
// work queued before it at the same time (contract C2), before work due later, even when the
// clock has moved on meanwhile; inside each, current_due() is its stamp.
TEST_F(Threads, C2_ABurstOfPostsRunsAheadOfLaterWorkAndAfterQueuedWorkOfItsTime) {
  asp::work_guard guard = loop.hold();
  std::vector<std::string> order;
  loop.call_soon([&] {
    order.push_back("first");
    loop.call_soon([&] { order.push_back("queued at t0"); });
    loop.call_later(1s, [&] {
      order.push_back("at t0+1s");
      guard.reset();
    });
    std::thread producer([&] {
      for (int i = 0; i < 3; ++i) {
        loop.post([&order, &l = loop, i](asp::time_point stamp) {
          order.push_back("posted " + std::to_string(i) + " at " + std::to_string(secs(stamp)) +
                          " due " + std::to_string(secs(l.current_due())) + " now " +
                          std::to_string(secs(l.now())));
        });
      }
    });
    producer.join();
    clock.advance(500ms);  // the posts were stamped at t0; they run before t0+1s anyway
  });
  loop.run();
  EXPECT_EQ(order, (std::vector<std::string>{
                       "first", "queued at t0", "posted 0 at 0.000000 due 0.000000 now 0.000000",
                       "posted 1 at 0.000000 due 0.000000 now 0.000000",
                       "posted 2 at 0.000000 due 0.000000 now 0.000000", "at t0+1s"}));
  EXPECT_EQ(loop.stats().posts, 3u);
}

// A post of a burst that throws fails the run with its context; the posts taken with it do not
// run (they are destroyed with the run's work), as after any failure.
TEST_F(Threads, APostThatThrowsInABurstStopsTheRestOfIt) {
  asp::work_guard guard = loop.hold();
  std::vector<int> ran;
  auto alive = std::make_shared<int>(0);
  loop.call_soon([&] {
    std::thread producer([&] {
      loop.post([&] { ran.push_back(0); });
      loop.post([] { throw std::runtime_error("bad input"); });
      loop.post([&ran, keep = alive] { ran.push_back(2); });
    });
    producer.join();
  });
  try {
    loop.run();
    FAIL() << "the run did not fail";
  } catch (const asp::run_error& e) {
    EXPECT_NE(std::string(e.what()).find("posted callback due at " + asp::to_string(t0)),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(ran, std::vector<int>{0});
  EXPECT_EQ(alive.use_count(), 1);  // the third post's callable is gone, unrun
}

// A post of a burst that stops the loop: the posts after it wait for the next run.
TEST_F(Threads, APostThatStopsTheLoopLeavesTheRestOfItsBurstForTheNextRun) {
  asp::work_guard guard = loop.hold();
  std::vector<int> ran;
  loop.call_soon([&] {
    std::thread producer([&] {
      loop.post([&] { ran.push_back(0); });
      loop.post([&] {
        ran.push_back(1);
        loop.stop();
      });
      loop.post([&] { ran.push_back(2); });
      loop.post([&] { guard.reset(); });
    });
    producer.join();
  });
  loop.run();
  EXPECT_EQ(ran, (std::vector<int>{0, 1}));
  loop.run();
  EXPECT_EQ(ran, (std::vector<int>{0, 1, 2}));
}

TEST_F(Threads, ReleasingTheLastGuardFromAnotherThreadEndsTheRun) {
  asp::work_guard guard = loop.hold();
  std::thread releaser([&] { guard.reset(); });
  loop.run();
  releaser.join();
  SUCCEED();
}

TEST_F(Threads, PostsMadeBeforeTheRunWaitForIt) {
  int ran = 0;
  std::thread producer([&] { loop.post([&] { ++ran; }); });
  producer.join();
  EXPECT_EQ(ran, 0);
  loop.run();
  EXPECT_EQ(ran, 1);
}

// A producer posts and then lets go of the run's last hold: the run takes the post before it
// ends, whichever moment the loop looks at the inbox in (before the post is written, between
// the write and the release, after both).
TEST_F(Threads, WorkPostedBeforeTheLastHoldIsReleasedRunsInThatRun) {
  for (int round = 0; round < 500; ++round) {
    bool ran = false;
    asp::work_guard guard = loop.hold();
    std::thread producer([&] {
      loop.post([&ran] { ran = true; });
      guard.reset();
    });
    loop.run();
    producer.join();
    ASSERT_TRUE(ran) << "round " << round;
  }
}

// Four producers, each posting 20,000 pieces of work (one at a time or in batches of 100,
// several blocks of the inbox's): each piece runs once, and each producer's in its order.
TEST_F(Threads, PostsOfSeveralThreadsEachRunOnceAndInEachThreadsOrder) {
  constexpr std::size_t producers = 4;
  constexpr int per_producer = 20000;
  std::vector<std::vector<int>> got(producers);
  std::size_t finished = 0;
  asp::work_guard guard = loop.hold();
  std::vector<std::thread> threads;
  for (std::size_t p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      auto piece = [&got, p](int i) { return [&got, p, i] { got[p].push_back(i); }; };
      if (p % 2 == 0) {
        for (int i = 0; i < per_producer; ++i) loop.post(piece(i));
      } else {
        for (int i = 0; i < per_producer; i += 100) {
          std::vector<decltype(piece(0))> batch;
          for (int j = i; j < i + 100; ++j) batch.push_back(piece(j));
          loop.post_batch(batch);
        }
      }
      loop.post([&] {
        if (++finished == producers) guard.reset();
      });
    });
  }
  loop.run();
  for (std::thread& t : threads) t.join();
  for (std::size_t p = 0; p < producers; ++p) {
    ASSERT_EQ(got[p].size(), static_cast<std::size_t>(per_producer)) << "producer " << p;
    for (int i = 0; i < per_producer; ++i) {
      ASSERT_EQ(got[p][static_cast<std::size_t>(i)], i) << "producer " << p;
    }
  }
  EXPECT_EQ(loop.stats().posts, producers * (per_producer + 1));
}

// One batch of 5,000, more than a block of the inbox holds: claimed in pieces, run in order,
// all at the one stamp.
TEST_F(Threads, ABatchLargerThanABlockRunsInOrderAtOneStamp) {
  std::vector<int> got;
  std::vector<asp::time_point> stamps;
  struct record {
    std::vector<int>* got;
    std::vector<asp::time_point>* stamps;
    int i;
    void operator()(asp::time_point stamp) const {
      got->push_back(i);
      stamps->push_back(stamp);
    }
  };
  std::vector<record> batch;
  for (int i = 0; i < 5000; ++i) batch.push_back({&got, &stamps, i});
  std::thread producer([&] { loop.post_batch(batch); });
  producer.join();
  clock.advance(1s);  // the stamp was taken once, before
  loop.run();
  ASSERT_EQ(got.size(), 5000u);
  for (int i = 0; i < 5000; ++i) EXPECT_EQ(got[static_cast<std::size_t>(i)], i);
  for (asp::time_point s : stamps) EXPECT_EQ(s, t0);
}

// A batch given as a range that is not sized (a filtered view) is posted whole too.
TEST_F(Threads, ABatchFromARangeThatIsNotSizedRunsInOrder) {
  std::vector<int> got;
  std::vector<int> numbers(3000);
  for (int i = 0; i < 3000; ++i) numbers[static_cast<std::size_t>(i)] = i;
  auto even = numbers | std::views::filter([](int i) { return i % 2 == 0; }) |
              std::views::transform([&got](int i) { return [&got, i] { got.push_back(i); }; });
  std::thread producer([&] { loop.post_batch(even); });
  producer.join();
  loop.run();
  ASSERT_EQ(got.size(), 1500u);
  for (int i = 0; i < 1500; ++i) EXPECT_EQ(got[static_cast<std::size_t>(i)], 2 * i);
}

// Producers keep posting (through what outlives the loop, as a channel does) while the loop
// is destroyed: each post either went in before, and its callable is destroyed with the loop
// unrun, or throws std::logic_error. Nothing leaks and nothing runs.
TEST(ThreadsAndTeardown, PostsRacingTheLoopsDestructionAreDestroyedOrRefused) {
  for (int round = 0; round < 20; ++round) {
    asp::manual_clock clock{t0};
    auto counted = std::make_shared<int>(0);  // one reference more for each callable alive
    std::atomic<int> accepted{0};
    std::atomic<int> refused{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> producers;
    auto l = std::make_unique<asp::loop>(clock);
    for (int p = 0; p < 2; ++p) {
      producers.emplace_back([&, remote = asp::detail::loop_access::remote(*l)] {
        while (!go.load()) std::this_thread::yield();
        for (int i = 0; i < 3000; ++i) {
          try {
            remote->post(std::nullopt,
                         asp::detail::posted_fn<asp::loop>([counted](asp::time_point, asp::loop&) {
                           ADD_FAILURE() << "ran on a destroyed loop";
                         }));
            accepted.fetch_add(1);
          } catch (const std::logic_error&) {
            refused.fetch_add(1);
          }
        }
      });
    }
    go.store(true);
    std::this_thread::yield();
    l.reset();  // while the producers post
    for (std::thread& t : producers) t.join();
    EXPECT_EQ(accepted.load() + refused.load(), 6000);
    EXPECT_EQ(counted.use_count(), 1) << "round " << round;
  }
}

asp::loop* signalled_loop = nullptr;
void on_signal(int) {
  signalled_loop->stop();
}

TEST_F(Threads, StopIsSafeFromASignalHandler) {
  signalled_loop = &loop;
  auto previous = std::signal(SIGUSR1, on_signal);
  asp::work_guard guard = loop.hold();
  loop.call_soon([] { std::raise(SIGUSR1); });
  loop.call_later(1s, [] { ADD_FAILURE() << "ran after stop"; });
  loop.run();
  std::signal(SIGUSR1, previous);
  EXPECT_EQ(loop.stats().runs, 1u);
}

}  // namespace

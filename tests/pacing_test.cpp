// Paced replay (contract C9): history replays at a rate instead of as fast as possible.
// On the manual clock the real time at which each event runs is exact.
#include <asp/asp.hpp>

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace asp::testing;

// History a day old: events at 0 s, 1 s and 3 s after b.
struct Pacing : ::testing::Test {
  asp::manual_clock clock{t0 + 24h};
  asp::loop loop{clock};
  const asp::time_point real = clock.now();
  const asp::time_point b = t0;
  std::vector<std::string> seen;  // "event@virtual seconds after b: real ms after start"

  void start_history(std::vector<asp::event<int>> events, std::function<void(int)> also = {}) {
    asp::start(loop, asp::process_stream(
                         [this, also](asp::time_point t, int v) {
                           EXPECT_EQ(loop.now(), t);  // now() shows event time exactly
                           seen.push_back(std::to_string(v) + "@" + std::to_string((t - b) / 1ms) +
                                          ": " + std::to_string((clock.now() - real) / 1ms));
                           if (also) also(v);
                         },
                         std::move(events)))
        .detach();
  }
  std::vector<asp::event<int>> history() { return {{b, 0}, {b + 1s, 1}, {b + 3s, 2}}; }
};

TEST_F(Pacing, C9_AtRealTimeEventsRunAsFarApartAsTheyHappened) {
  start_history(history());
  loop.run({.rate = 1.0});
  EXPECT_EQ(seen, (std::vector<std::string>{"0@0: 0", "1@1000: 1000", "2@3000: 3000"}));
  EXPECT_FALSE(loop.is_live());
}

TEST_F(Pacing, C9_TenTimesFaster) {
  start_history(history());
  loop.run({.rate = 10.0});
  EXPECT_EQ(seen, (std::vector<std::string>{"0@0: 0", "1@1000: 100", "2@3000: 300"}));
}

TEST_F(Pacing, C9_HalfSpeed) {
  start_history(history());
  loop.run({.rate = 0.5});
  EXPECT_EQ(seen, (std::vector<std::string>{"0@0: 0", "1@1000: 2000", "2@3000: 6000"}));
}

TEST_F(Pacing, C9_TimersAndSleepsArePacedLikeEvents) {
  std::vector<long> at;
  loop.call_at(b + 2s, [&] { at.push_back((clock.now() - real) / 1ms); });
  auto sleeper = [&]() -> asp::task<void> {
    co_await asp::sleep_until(b + 500ms);
    at.push_back((clock.now() - real) / 1ms);
  };
  asp::spawn(loop, sleeper(), "sleeper", b).detach();
  loop.run({.start = b, .rate = 2.0});
  EXPECT_EQ(at, (std::vector<long>{250, 1000}));
}

TEST_F(Pacing, C9_AChangeOfRateMidRunReBasesWithoutAJump) {
  // At 1 s (real 1000 ms) the rate goes to 4: the 2 s left until the third event take 500 ms.
  start_history(history(), [&](int v) {
    if (v == 1) loop.set_rate(4.0);
  });
  loop.run({.rate = 1.0});
  EXPECT_EQ(seen, (std::vector<std::string>{"0@0: 0", "1@1000: 1000", "2@3000: 1500"}));
}

TEST_F(Pacing, C9_GoingAsFastAsPossibleMidRunEndsThePacing) {
  start_history(history(), [&](int v) {
    if (v == 1) loop.set_rate(std::nullopt);
  });
  loop.run({.rate = 1.0});
  EXPECT_EQ(seen, (std::vector<std::string>{"0@0: 0", "1@1000: 1000", "2@3000: 1000"}));
}

TEST_F(Pacing, C9_PauseAndResumeFromTheLoop) {
  // Paused at 1 s; work due at now() still runs: it lets 5 s of real time pass and resumes.
  start_history(history(), [&](int v) {
    if (v != 1) return;
    loop.pause();
    loop.call_soon([&] {
      clock.advance(5s);
      loop.resume();
    });
  });
  loop.run({.rate = 1.0});
  EXPECT_EQ(seen, (std::vector<std::string>{"0@0: 0", "1@1000: 1000", "2@3000: 8000"}));
}

TEST_F(Pacing, C9_PauseAndResumeFromAnotherThread) {
  start_history(history(), [&](int v) {
    if (v == 1) loop.pause();
  });
  std::thread controller([&] {
    // The paused loop waits with no deadline, which on the manual clock means blocking.
    while (clock.blocks() == 0) std::this_thread::yield();
    clock.advance(10s);
    loop.resume();
  });
  loop.run({.rate = 1.0});
  controller.join();
  EXPECT_EQ(seen, (std::vector<std::string>{"0@0: 0", "1@1000: 1000", "2@3000: 13000"}));
}

TEST_F(Pacing, C9_ARateChangeFromAnotherThreadTakesEffectBeforeTheNextWork) {
  start_history(history(), [&](int v) {
    if (v == 1) std::thread([&] { loop.set_rate(2.0); }).join();
  });
  loop.run({.rate = 1.0});
  EXPECT_EQ(seen, (std::vector<std::string>{"0@0: 0", "1@1000: 1000", "2@3000: 2000"}));
}

TEST_F(Pacing, C9_PacingEndsWhereTheRealClockIsReached) {
  // History 2 s old at ten times speed catches up with the real clock after 222 ms; the live
  // event at +1 s then runs at its own time, and the loop is live.
  asp::time_point turned_live{};
  start_history({{real - 2s, 0}, {real - 1s, 1}, {real + 1s, 2}});
  loop.run({.on_live = [&](asp::time_point at) { turned_live = at; }, .rate = 10.0});
  EXPECT_EQ(seen,
            (std::vector<std::string>{"0@86398000: 0", "1@86399000: 100", "2@86401000: 1000"}));
  EXPECT_TRUE(loop.is_live());
  EXPECT_EQ(turned_live, real + 100ms);
}

TEST_F(Pacing, C9_AHostPollingAPacedLoopIsToldThePacedDeadline) {
  start_history(history());
  EXPECT_TRUE(loop.poll({.rate = 10.0}));
  EXPECT_EQ(loop.next_deadline(), real + 100ms);
  clock.set(real + 100ms);
  EXPECT_TRUE(loop.poll());
  EXPECT_EQ(loop.next_deadline(), real + 300ms);
  clock.set(real + 300ms);
  EXPECT_FALSE(loop.poll());
  EXPECT_EQ(seen, (std::vector<std::string>{"0@0: 0", "1@1000: 100", "2@3000: 300"}));
}

TEST_F(Pacing, ARateThatIsNotPositiveIsRefused) {
  EXPECT_THROW(loop.set_rate(0.0), std::invalid_argument);
  EXPECT_THROW(loop.set_rate(-2.0), std::invalid_argument);
  EXPECT_THROW(loop.run({.rate = 0.0}), std::invalid_argument);
}

}  // namespace

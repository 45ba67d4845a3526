// A host loop drives ASP with poll / next_deadline / wake_handle (contract C10): the same
// work runs in the same order, at the same times, as under run().
#include <asp/asp.hpp>

#include <gtest/gtest.h>

#include <poll.h>

#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "greeter.hpp"
#include "test_support.hpp"

namespace {

using namespace asp::testing;

// The plainest host: poll, then "sleep" on the manual clock until the next deadline, or block
// on the wake handle when nothing is scheduled.
void drive(asp::loop& loop, asp::manual_clock& clock, asp::run_options options = {}) {
  while (loop.poll(options)) {
    if (const std::optional<asp::time_point> at = loop.next_deadline()) {
      clock.set(*at);
    } else {
      ::pollfd pfd{loop.wake_handle(), POLLIN, 0};
      ASSERT_EQ(::poll(&pfd, 1, -1), 1);
    }
  }
}

// What `scenario` prints on a fresh loop on a manual clock, run by run() or by the host.
std::string output_of(const std::function<void(asp::loop&)>& scenario, bool host_driven) {
  asp::manual_clock clock{t0 + 12h};
  asp::loop loop{clock};
  std::ostringstream out;
  std::streambuf* saved = std::cout.rdbuf(out.rdbuf());
  scenario(loop);
  if (host_driven) {
    drive(loop, clock);
  } else {
    loop.run();
  }
  std::cout.rdbuf(saved);
  return out.str();
}

std::string golden(const std::string& name) {
  return std::string(ASP_EXAMPLES_DIR) + "/golden/" + name + ".txt";
}

TEST(Host, C10_TheReadmeExampleRunsTheSameWhenAHostPollsIt) {
  auto readme = [](asp::loop& loop) {
    const asp::time_point start = std::chrono::sys_days{std::chrono::year{2025} / 1 / 1};
    std::vector<asp::event<std::string>> arrivals{{start, "Jane"}, {start + 1s, "John"}};
    asp::start(loop, asp::process_stream(
                         [](asp::time_point t, const std::string& name) {
                           std::cout << asp::to_string(asp::now()) << ' ' << name << " arrived\n";
                           asp::call_at(t + 1s, [name] {
                             std::cout << asp::to_string(asp::now()) << " Hello " << name << "\n";
                           });
                         },
                         arrivals))
        .detach();
  };
  const std::string by_run = output_of(readme, false);
  EXPECT_EQ(compare_with_golden(by_run, golden("00_readme")), std::nullopt);
  EXPECT_EQ(output_of(readme, true), by_run);
}

TEST(Host, C10_TheSchedulingCallbacksExampleRunsTheSameWhenAHostPollsIt) {
  auto scheduling = [](asp::loop& loop) {
    auto greeter = std::make_shared<example::greeter>();
    asp::start(loop,
               example::history_then_live(loop,
                                          [greeter](asp::time_point t, const std::string& name) {
                                            greeter->greet_later(t, name);
                                          }))
        .detach();
  };
  const std::string by_run = output_of(scheduling, false);
  EXPECT_EQ(compare_with_golden(by_run, golden("04_scheduling_callbacks")), std::nullopt);
  EXPECT_EQ(output_of(scheduling, true), by_run);
}

TEST(Host, C10_ALiveChannelFedByAnotherThreadRunsTheSameWhenAHostPollsIt) {
  auto channel_scenario = [](asp::loop& loop) {
    const asp::time_point real = loop.clock().now();
    auto live = std::make_shared<asp::channel<int>>(loop);
    asp::start(loop, asp::process_stream(
                         [](asp::time_point t, int v) {
                           std::cout << asp::to_string(t) << ' ' << asp::to_string(asp::now())
                                     << " event " << v << "\n";
                         },
                         std::vector<asp::event<int>>{{real - 2s, 0}, {real - 1s, 1}}, *live))
        .detach();
    loop.call_at(real - 1500ms,
                 [] { std::cout << "timer at " << asp::to_string(asp::now()) << "\n"; });
    // The producer starts once the loop runs, and pushes events with their own times.
    loop.call_soon([live, real] {
      std::thread([live, real] {
        for (int i = 2; i < 5; ++i) live->push(real + std::chrono::seconds(i), i);
        live->close();
      }).detach();
    });
  };
  const std::string by_run = output_of(channel_scenario, false);
  EXPECT_EQ(by_run,
            "2025-01-01T11:59:58.000000000Z 2025-01-01T11:59:58.000000000Z event 0\n"
            "timer at 2025-01-01T11:59:58.500000000Z\n"
            "2025-01-01T11:59:59.000000000Z 2025-01-01T11:59:59.000000000Z event 1\n"
            "2025-01-01T12:00:02.000000000Z 2025-01-01T12:00:02.000000000Z event 2\n"
            "2025-01-01T12:00:03.000000000Z 2025-01-01T12:00:03.000000000Z event 3\n"
            "2025-01-01T12:00:04.000000000Z 2025-01-01T12:00:04.000000000Z event 4\n");
  EXPECT_EQ(output_of(channel_scenario, true), by_run);
}

TEST(Host, PollRunsOnlyWhatIsDueAndNextDeadlineSaysWhenToComeBack) {
  asp::manual_clock clock{t0};
  asp::loop loop{clock};
  std::vector<int> ran;
  loop.call_at(t0 - 1s, [&] { ran.push_back(1); });
  loop.call_at(t0 + 5s, [&] { ran.push_back(2); });
  EXPECT_TRUE(loop.poll());
  EXPECT_EQ(ran, (std::vector<int>{1}));
  EXPECT_EQ(loop.next_deadline(), t0 + 5s);
  EXPECT_TRUE(loop.poll());  // nothing is due yet: returns at once
  EXPECT_EQ(ran, (std::vector<int>{1}));
  clock.set(t0 + 5s);
  EXPECT_FALSE(loop.poll());  // runs the last work; nothing is left
  EXPECT_EQ(ran, (std::vector<int>{1, 2}));
  EXPECT_EQ(loop.next_deadline(), std::nullopt);
  EXPECT_EQ(loop.stats().waits, 0u);
}

TEST(Host, APostFromAnotherThreadMakesTheWakeHandleReadableAndCallsTheHook) {
  asp::manual_clock clock{t0};
  asp::loop loop{clock};
  asp::work_guard guard = loop.hold();
  int hooked = 0;
  loop.set_on_wake([&] { ++hooked; });
  EXPECT_TRUE(loop.poll());
  EXPECT_EQ(loop.next_deadline(), std::nullopt);
  ::pollfd pfd{loop.wake_handle(), POLLIN, 0};
  EXPECT_EQ(::poll(&pfd, 1, 0), 0);  // quiet while nothing arrives
  bool ran = false;
  std::thread([&] { loop.post([&] { ran = true; }); }).join();
  EXPECT_EQ(::poll(&pfd, 1, 0), 1);
  EXPECT_EQ(hooked, 1);
  EXPECT_EQ(loop.next_deadline(), t0);  // due now
  guard.reset();
  EXPECT_FALSE(loop.poll());
  EXPECT_TRUE(ran);
  EXPECT_EQ(::poll(&pfd, 1, 0), 0);  // the poll consumed the wake-up
}

TEST(Host, PollThrowsTheRunsFailureWithContext) {
  asp::manual_clock clock{t0};
  asp::loop loop{clock};
  loop.call_at(t0, [] { throw std::runtime_error("boom"); });
  const asp::run_error e = run_error_of([&] { loop.poll(); });
  EXPECT_EQ(e.at(), t0);
}

TEST(Host, AStopEndsThePollAndALaterPollContinues) {
  asp::manual_clock clock{t0};
  asp::loop loop{clock};
  std::vector<int> ran;
  loop.call_at(t0 - 2s, [&] {
    ran.push_back(1);
    loop.stop();
  });
  loop.call_at(t0 - 1s, [&] { ran.push_back(2); });
  loop.set_on_stop([&] { ran.push_back(0); });
  EXPECT_FALSE(loop.poll());
  EXPECT_EQ(ran, (std::vector<int>{1, 0}));
  EXPECT_FALSE(loop.poll());
  EXPECT_EQ(ran, (std::vector<int>{1, 0, 2}));
}

}  // namespace

// The source concepts (docs/concepts.md) and the type-erased sources.
#include <asp/source.hpp>

#include <asp/asp.hpp>

#include <gtest/gtest.h>

#include <list>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace asp::testing;

// What satisfies the concepts, and what does not.
static_assert(asp::event_like<asp::event<int>>);
static_assert(asp::event_like<std::pair<asp::time_point, std::string>>);
static_assert(asp::event_like<std::tuple<asp::time_point, double>>);
static_assert(!asp::event_like<int>);
static_assert(!asp::event_like<std::pair<int, int>>);
static_assert(asp::past_source<std::vector<asp::event<int>>>);
static_assert(asp::past_source<std::list<std::pair<asp::time_point, int>>>);
static_assert(asp::past_source<asp::generator<asp::event<int>>>);
static_assert(asp::past_source<asp::any_past_source<asp::event<int>>>);
static_assert(!asp::past_source<std::vector<int>>);
static_assert(asp::live_source<asp::channel<int>>);
static_assert(asp::closable_source<asp::channel<int>>);
static_assert(asp::live_source<asp::async_generator<asp::event<int>>>);
static_assert(!asp::closable_source<asp::async_generator<asp::event<int>>>);
static_assert(asp::live_source<asp::any_live_source<asp::event<int>>>);
static_assert(asp::closable_source<asp::any_live_source<asp::event<int>>>);
static_assert(!asp::live_source<std::vector<asp::event<int>>>);
static_assert(
    std::is_same_v<asp::live_event_t<asp::channel<std::string>>, asp::event<std::string>>);

struct Source : ::testing::Test {
  asp::manual_clock clock{t0 + 24h};
  asp::loop loop{clock};
  std::vector<std::string> seen;
  auto record() {
    return [this](asp::time_point t, const std::string& v) {
      seen.push_back(v + "@" + std::to_string(secs(t)) + " now " +
                     std::to_string(secs(loop.now())));
    };
  }
};

TEST_F(Source, AnyPastSourceReplaysWhatItWrapsInOrder) {
  std::vector<std::pair<asp::time_point, std::string>> pairs{{t0 + 1s, "a"}, {t0 + 2s, "b"}};
  asp::any_past_source<asp::event<std::string>> erased{std::move(pairs)};
  loop.run({}, asp::process_stream(record(), std::move(erased)),
           asp::process_stream(record(), std::vector<asp::event<std::string>>{{t0 + 1500ms, "x"}}));
  EXPECT_EQ(seen, (std::vector<std::string>{"a@1.000000 now 1.000000", "x@1.500000 now 1.500000",
                                            "b@2.000000 now 2.000000"}));
}

TEST_F(Source, AnyPastSourceOverALazyGeneratorReadsOneEventAtATime) {
  int produced = 0;
  auto lazy = [&produced]() -> asp::generator<asp::event<std::string>> {
    for (int i = 0; i < 3; ++i) {
      ++produced;
      asp::event<std::string> e{t0 + std::chrono::seconds(i), std::to_string(i)};
      co_yield e;
    }
  };
  asp::any_past_source<asp::event<std::string>> erased{lazy()};
  auto it = erased.begin();
  EXPECT_EQ(produced, 1);
  EXPECT_EQ((*it).value, "0");
  ++it;
  EXPECT_EQ(produced, 2);
  EXPECT_EQ((*it).value, "1");
}

TEST_F(Source, AnyPastSourceFailureNamesTheStream) {
  auto broken = []() -> asp::generator<asp::event<std::string>> {
    asp::event<std::string> e{t0, "ok"};
    co_yield e;
    throw std::runtime_error("line 2: bad time");
  };
  asp::any_past_source<asp::event<std::string>> erased{broken()};
  const asp::run_error e = run_error_of([&] {
    loop.run({}, asp::process_stream(record(), std::move(erased), asp::none, {.name = "csv"}));
  });
  EXPECT_EQ(e.where(), "stream 'csv', event #1");
  EXPECT_EQ(seen, (std::vector<std::string>{"ok@0.000000 now 0.000000"}));
}

TEST_F(Source, AnyLiveSourceOverAChannelDeliversAtTheEventsTimes) {
  asp::channel<std::string> ch(loop);
  asp::any_live_source<asp::event<std::string>> erased{ch};
  const asp::time_point real = clock.now();
  ch.push(real + 1s, "live 1");
  ch.push(real + 2s, "live 2");
  loop.call_at(real + 2s, [&] { ch.close(); });
  auto on_event = [&](asp::time_point t, const std::string& v) {
    seen.push_back(v + " at " + std::to_string(secs(t) - secs(real)));
  };
  loop.run({},
           asp::process_stream(on_event, std::vector<asp::event<std::string>>{{real - 1s, "past"}},
                               std::move(erased)));
  EXPECT_EQ(seen, (std::vector<std::string>{"past at -1.000000", "live 1 at 1.000000",
                                            "live 2 at 2.000000"}));
}

TEST_F(Source, ClosingAnAnyLiveSourceClosesWhatItWraps) {
  asp::channel<std::string> ch(loop);
  asp::any_live_source<asp::event<std::string>> erased{ch};
  erased.close();
  EXPECT_THROW(ch.push(t0, "late"), std::logic_error);
  auto gen = []() -> asp::async_generator<asp::event<int>> { co_return; };
  asp::any_live_source<asp::event<int>> not_closable{gen()};
  not_closable.close();  // does nothing
}

TEST_F(Source, AnyLiveSourceOverAnAsyncGeneratorConvertsItsEvents) {
  auto gen = [this]() -> asp::async_generator<std::pair<asp::time_point, std::string>> {
    for (int i = 0; i < 2; ++i) {
      co_await asp::sleep(1s);
      std::pair<asp::time_point, std::string> e{loop.now(), "tick " + std::to_string(i)};
      co_yield e;
    }
  };
  asp::any_live_source<asp::event<std::string>> erased{gen()};
  loop.run({.start = t0}, asp::process_stream(record(), asp::none, std::move(erased)));
  EXPECT_EQ(seen, (std::vector<std::string>{"tick 0@1.000000 now 1.000000",
                                            "tick 1@2.000000 now 2.000000"}));
}

}  // namespace

// asp::data::record_into: a live stream recorded while it is processed replays the same.
#include <asp/data/record.hpp>

#include <asp/asp.hpp>

#include <gtest/gtest.h>

#include <bit>
#include <string>
#include <vector>

#include "data/temp_file.hpp"
#include "test_support.hpp"

namespace {

using namespace asp::testing;
using asp::data::log_writer;

struct Record : ::testing::Test {
  temp_dir dir;
  std::string path = dir.path("r.asplog");
};

TEST_F(Record, ARecordedLiveStreamReplaysAsThePastWithTheSameCallbacksBitForBit) {
  using trace = std::vector<std::pair<std::int64_t, std::uint64_t>>;
  auto traced = [](trace& out) {
    return [&out](asp::time_point t, double v) {
      out.emplace_back(t.time_since_epoch().count(), std::bit_cast<std::uint64_t>(v));
    };
  };
  trace live;
  {
    manual_loop m;
    log_writer w(path, {{"prices", "f64"}});
    asp::channel<double> feed(m.loop);
    auto producer = [&]() -> asp::task<void> {
      for (int i = 0; i < 50; ++i) {
        co_await asp::sleep(std::chrono::milliseconds(7 * i + 1));
        feed.push(asp::now() - std::chrono::microseconds(i), 1.0 / (i + 3) - 0.1 * i);
      }
      feed.close();
    };
    m.loop.run(
        {}, producer(),
        asp::process_stream(traced(live), asp::none, asp::data::record_into(w, "prices", feed)));
    w.close();
  }
  ASSERT_EQ(live.size(), 50u);
  trace replayed;
  manual_loop m;
  m.loop.run({},
             asp::process_stream(traced(replayed), asp::data::log_source<double>(path, "prices")));
  EXPECT_EQ(replayed, live);
}

TEST_F(Record, ClosingTheRecordingClosesTheSource) {
  manual_loop m;
  log_writer w(path, {{"x"}});
  asp::channel<int> feed(m.loop);
  auto recording = asp::data::record_into(w, "x", feed);
  static_assert(asp::closable_source<decltype(recording)>);
  feed.push(t0 + 1s, 7);
  std::vector<int> seen;
  m.loop.call_at(t0 + 2s, [&] { recording.close(); });
  auto consume = [&]() -> asp::task<void> {
    while (auto e = co_await recording.next()) seen.push_back(e->value);
  };
  m.loop.run(consume());
  EXPECT_EQ(seen, std::vector<int>{7});
  EXPECT_EQ(w.written(), 1u);
}

TEST_F(Record, AWriteThatFailsFailsTheStreamWithItsName) {
  manual_loop m;
  log_writer w(path, {{"x"}});
  w.close();
  asp::channel<int> feed(m.loop);
  feed.push(t0 + 1s, 1);
  feed.close();
  const asp::run_error e = run_error_of([&] {
    m.loop.run({}, asp::process_stream([](asp::time_point, int) {}, asp::none,
                                       asp::data::record_into(w, "x", feed), {.name = "feed"}));
  });
  EXPECT_NE(std::string(e.what()).find("stream 'feed'"), std::string::npos) << e.what();
  EXPECT_NE(std::string(e.what()).find(path + " is closed"), std::string::npos) << e.what();
}

}  // namespace

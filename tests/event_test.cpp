// Events: asp::event, pairs and tuples; tuple values unpacked into callbacks.
#include <asp/event.hpp>

#include <asp/asp.hpp>

#include <gtest/gtest.h>

#include <string>
#include <tuple>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace asp::testing;

struct Event : ::testing::Test, manual_loop {};

struct order_update {
  std::string symbol;
  double price;
  int qty;
};

TEST_F(Event, TupleValuesUnpackAndStructValuesPassWhole) {
  std::vector<std::string> got;
  std::vector<asp::event<std::tuple<std::string, double, int>>> tuples{{t0, {"AAPL", 135.0, 100}}};
  std::vector<asp::event<order_update>> structs{{t0 + 1s, {"FB", 350.0, -200}}};
  asp::start(loop, asp::process_stream(
                       [&](asp::time_point, const std::string& s, double p, int q) {
                         got.push_back(s + " " + std::to_string(p) + " " + std::to_string(q));
                       },
                       tuples))
      .detach();
  loop.run({}, asp::process_stream(
                   [&](asp::time_point, const order_update& o) {
                     got.push_back(o.symbol + " " + std::to_string(o.price) + " " +
                                   std::to_string(o.qty));
                   },
                   structs));
  EXPECT_EQ(got, (std::vector<std::string>{"AAPL 135.000000 100", "FB 350.000000 -200"}));
}

TEST_F(Event, PairAndTupleEventsAreAccepted) {
  std::vector<int> got;
  std::vector<std::pair<asp::time_point, int>> pairs{{t0, 1}, {t0 + 2s, 3}};
  std::vector<std::tuple<asp::time_point, int>> tuples{{t0 + 1s, 2}};
  asp::start(loop, asp::process_stream([&](asp::time_point, int v) { got.push_back(v); }, pairs))
      .detach();
  loop.run({}, asp::process_stream([&](asp::time_point, int v) { got.push_back(v); }, tuples));
  EXPECT_EQ(got, (std::vector<int>{1, 2, 3}));
}

}  // namespace

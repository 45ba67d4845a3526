// Ticking (adapted from csp): two series x and y, combined by timestamp — one update per
// distinct time, carrying the latest of each (0 before a series first ticks) — printing x, y,
// x + y and the running sum of x + y.
//
// The update is scheduled with call_soon: it runs after every event already due at this
// instant, so when x and y tick together the update sees both.
#include <cstdio>

#include "example_support.hpp"

using namespace std::chrono_literals;

int main(int argc, char** argv) {
  auto clock = example::make_clock(argc, argv);
  asp::loop loop(*clock);
  const asp::time_point st = std::chrono::sys_days{std::chrono::year{2020} / 1 / 1};
  const std::chrono::days day{1};
  std::vector<asp::event<int>> x{{st + 1 * day, 1}, {st + 2 * day, 2}, {st + 3 * day, 3}};
  std::vector<asp::event<int>> y{{st + 1 * day, -1}, {st + 3 * day, -1}, {st + 4 * day, -1}};

  int latest_x = 0;
  int latest_y = 0;
  int accumulated = 0;
  std::optional<asp::time_point> update_due;
  auto update = [&](asp::time_point t) {
    update_due.reset();
    accumulated += latest_x + latest_y;
    const auto date = std::chrono::year_month_day{std::chrono::floor<std::chrono::days>(t)};
    char line[96];
    std::snprintf(line, sizeof line, "%04d-%02u-%02u x=%d y=%d x+y=%d accumulated=%d",
                  static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                  static_cast<unsigned>(date.day()), latest_x, latest_y, latest_x + latest_y,
                  accumulated);
    example::log(t, line);
  };
  auto tick = [&](int& latest) {
    return [&](asp::time_point t, int value) {
      latest = value;
      if (update_due != t) {
        update_due = t;
        asp::call_soon(update);
      }
    };
  };
  loop.run({}, asp::process_stream(tick(latest_x), x, asp::none, {.name = "x"}),
           asp::process_stream(tick(latest_y), y, asp::none, {.name = "y"}));
}

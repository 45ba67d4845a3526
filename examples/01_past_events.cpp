// Processing past events: five arrivals one second apart, replayed at once on their own clock.
#include "greeter.hpp"

using namespace std::chrono_literals;

int main(int argc, char** argv) {
  auto clock = example::make_clock(argc, argv);
  asp::loop loop(*clock);
  example::greeter greeter;
  const asp::time_point start = std::chrono::sys_days{std::chrono::year{2025} / 1 / 1};
  loop.run({.start = start},
           asp::process_stream(
               [&](asp::time_point t, const std::string& name) { greeter.greet(t, name); },
               example::past_arrivals(start, example::names)));
}

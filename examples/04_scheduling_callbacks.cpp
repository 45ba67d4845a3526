// Scheduling callbacks: each arrival schedules its greeting one second later. The greeting of
// the last past arrival is due before the first live arrival, so it comes first (the Python
// original prints it after).
#include "greeter.hpp"

using namespace std::chrono_literals;

int main(int argc, char** argv) {
  auto clock = example::make_clock(argc, argv);
  asp::loop loop(*clock);
  example::greeter greeter;
  loop.start(asp::process_stream(
                 [&](asp::time_point t, const std::string& name) { greeter.greet_later(t, name); },
                 example::past_arrivals(clock->now() - 60s, {example::names[0], example::names[1]}),
                 example::live_arrivals({example::names.begin() + 2, example::names.end()}),
                 {.on_live_start = [] { std::cout << "** Running live **" << std::endl; }}))
      .detach();
  loop.run();
}

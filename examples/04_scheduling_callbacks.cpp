// Scheduling callbacks: each arrival schedules its greeting one second later. The greeting of
// the last past arrival is due before the first live arrival, so it comes first (the Python
// original prints it after).
#include "greeter.hpp"

int main(int argc, char** argv) {
  auto clock = example::make_clock(argc, argv);
  asp::loop loop(*clock);
  example::greeter greeter;
  loop.run({}, example::history_then_live(loop, [&](asp::time_point t, const std::string& name) {
             greeter.greet_later(t, name);
           }));
}

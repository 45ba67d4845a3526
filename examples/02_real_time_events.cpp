// Processing real time events: arrivals from an async generator, one second apart.
#include "greeter.hpp"

using namespace std::chrono_literals;

int main(int argc, char** argv) {
  auto clock = example::make_clock(argc, argv);
  asp::loop loop(*clock);
  example::greeter greeter;
  loop.run({}, asp::process_stream(
                   [&](asp::time_point t, const std::string& name) { greeter.greet(t, name); },
                   asp::none, example::live_arrivals(example::names)));
}

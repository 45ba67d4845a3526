// Pausing execution: a coroutine callback sleeps five seconds before greeting; the stream
// awaits it before its next event, in replay (fast-forwarded) and live alike.
#include "greeter.hpp"

using namespace std::chrono_literals;

int main(int argc, char** argv) {
  auto clock = example::make_clock(argc, argv);
  asp::loop loop(*clock);
  example::greeter greeter;
  loop.start(asp::process_stream(
                 [&](asp::time_point t, const std::string& name) {
                   return greeter.sleep_and_greet(t, name);
                 },
                 example::past_arrivals(clock->now() - 60s, {example::names[0], example::names[1]}),
                 example::live_arrivals({example::names.begin() + 2, example::names.end()}),
                 {.on_live_start = [] { std::cout << "** Running live **" << std::endl; }}))
      .detach();
  loop.run();
}

// Traveling through time: a minute-old history is replayed, then the same stream goes live
// with events that a producer thread pushes into a channel, one second apart.
#include <thread>

#include "greeter.hpp"

using namespace std::chrono_literals;

int main(int argc, char** argv) {
  auto clock = example::make_clock(argc, argv);
  asp::loop loop(*clock);
  example::greeter greeter;
  asp::channel<std::string> live(loop);
  std::thread producer([&] {
    const asp::time_point first = clock->now();
    for (std::size_t i = 0; i < 2; ++i) {
      const asp::time_point due = first + std::chrono::seconds(i);
      example::wait_until(*clock, due);
      live.push(due, example::names[i]);
    }
    live.close();
  });
  loop.run({},
           asp::process_stream(
               [&](asp::time_point t, const std::string& name) { greeter.greet(t, name); },
               example::past_arrivals(clock->now() - 60s, {example::names[0], example::names[1]}),
               live, {.on_live_start = example::announce_live}));
  producer.join();
}

// Executing arbitrary coroutines: a periodic timer whose coroutine callback sleeps a second.
// One tick, live: it prints what the original's README shows (the original itself raises a
// TypeError there).
#include "example_support.hpp"

using namespace std::chrono_literals;

asp::task<void> say_hello() {
  example::log(asp::now(), "sleeping for 1 second");
  co_await asp::sleep(1s);
  example::log(asp::now(), "hello");
}

int main(int argc, char** argv) {
  auto clock = example::make_clock(argc, argv);
  asp::loop loop(*clock);
  const asp::time_point start = clock->now();
  loop.run({}, asp::timer(1s, say_hello, {.start = start, .end = start + 1s}));
}

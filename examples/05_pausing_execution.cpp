// Pausing execution: a coroutine callback sleeps five seconds before greeting; the stream
// awaits it before its next event, in replay (fast-forwarded) and live alike.
#include "greeter.hpp"

int main(int argc, char** argv) {
  auto clock = example::make_clock(argc, argv);
  asp::loop loop(*clock);
  example::greeter greeter;
  loop.run({}, example::history_then_live(loop, [&](asp::time_point t, const std::string& name) {
             return greeter.sleep_and_greet(t, name);
           }));
}

#include <asp/asp.hpp>
#include <asp/testing/fixture.hpp>

#include <iostream>

int main() {
  using namespace std::chrono_literals;
  asp::testing::manual_loop m;
  m.loop.call_at(
      asp::testing::t0 + 1s,
      [](asp::time_point t, int v) { std::cout << asp::to_string(t) << ' ' << v << '\n'; }, 42);
  m.loop.run();
}

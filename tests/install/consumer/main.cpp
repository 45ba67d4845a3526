#include <asp/asp.hpp>

#include <iostream>

int main() {
  using namespace std::chrono_literals;
  const asp::time_point start = std::chrono::sys_days{std::chrono::year{2025} / 1 / 1};
  asp::manual_clock clock(start + 24h);
  asp::loop loop(clock);
  loop.call_at(
      start + 1s,
      [](asp::time_point t, int v) { std::cout << asp::to_string(t) << ' ' << v << '\n'; }, 42);
  loop.run();
}

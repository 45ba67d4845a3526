// The README's first example.
#include <asp/asp.hpp>

#include <iostream>

using namespace std::chrono_literals;

int main() {
  const asp::time_point start = std::chrono::sys_days{std::chrono::year{2025} / 1 / 1};
  std::vector<asp::event<std::string>> arrivals{{start, "Jane"}, {start + 1s, "John"}};

  // Each arrival schedules a greeting one second later: all of it runs at once, on history's
  // clock, on a loop on the system clock.
  auto on_arrival = [](asp::time_point t, const std::string& name) {
    std::cout << asp::to_string(asp::now()) << ' ' << name << " arrived\n";
    asp::call_at(t + 1s,
                 [name] { std::cout << asp::to_string(asp::now()) << " Hello " << name << "\n"; });
  };
  asp::run({}, asp::process_stream(on_arrival, arrivals));
}

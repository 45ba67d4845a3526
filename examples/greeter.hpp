#pragma once

// The Greeter of the original's README, shared by examples 01–05.

#include <set>
#include <string>

#include "example_support.hpp"

namespace example {

inline const std::vector<std::string> names{"Jane", "John", "Sarah", "Paul", "Jane"};

class greeter {
 public:
  void greet(asp::time_point event_time, const std::string& name) {
    if (m_greeted.insert(name).second) {
      log(event_time, "Hello " + name + ".");
    } else {
      log(event_time, "Hello again " + name + "!");
    }
  }

  void greet_later(asp::time_point event_time, const std::string& name) {
    log(event_time, name + " arrived.");
    asp::call_at(
        event_time + 1s, [this](asp::time_point t, const std::string& n) { greet(t, n); }, name);
  }

  asp::task<void> sleep_and_greet(asp::time_point event_time, std::string name) {
    log(event_time, name + " arrived.");
    const asp::duration delay = 5s;
    co_await asp::sleep(delay);
    greet(event_time + delay, name);
  }

 private:
  std::set<std::string> m_greeted;
};

/// Past events: `names` one second apart from `start`.
inline std::vector<asp::event<std::string>> past_arrivals(asp::time_point start,
                                                          std::vector<std::string> who) {
  std::vector<asp::event<std::string>> events;
  for (std::size_t i = 0; i < who.size(); ++i)
    events.push_back({start + std::chrono::seconds(i), who[i]});
  return events;
}

/// Live events: the original's create_async_generator — each name stamped with the real clock,
/// one second apart.
inline asp::async_generator<asp::event<std::string>> live_arrivals(std::vector<std::string> who) {
  for (const std::string& name : who) {
    asp::event<std::string> arrival{asp::real_now(), name};
    co_yield arrival;
    co_await asp::sleep(1s);
  }
}

/// What a stream prints when its past is exhausted.
inline void announce_live() {
  std::cout << "** Running live **" << std::endl;
}

/// The original's "history, then live" stream of examples 04 and 05: Jane and John a minute
/// before `loop`'s real clock, then Sarah, Paul and Jane live, one second apart, each handed to
/// `callback`.
template <class Callback>
auto history_then_live(asp::loop& loop, Callback callback) {
  return asp::process_stream(
      std::move(callback), past_arrivals(loop.clock().now() - 60s, {names[0], names[1]}),
      live_arrivals({names.begin() + 2, names.end()}), {.on_live_start = announce_live});
}

}  // namespace example

#pragma once

// What the asp::nats tests share: a server per test, a connection to it, and history
// published with asp::nats::publisher.

#include <asp/nats/connection.hpp>
#include <asp/nats/sink.hpp>
#include <asp/testing/fixture.hpp>

#include "nats/nats_server.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace asp::testing {

/// Message i: subject `subject_of(i)`, time t0 + i ms, payload "v<i>".
inline void publish_history(nats::connection& c, int first, int count,
                            const std::function<std::string(int)>& subject_of,
                            const std::string& name = "history") {
  asp::loop l;
  nats::publisher<std::string> p(l, c, {.subject = "", .name = name});
  for (int i = first; i < first + count; ++i) {
    p.publish(subject_of(i), t0 + std::chrono::milliseconds(i), "v" + std::to_string(i));
  }
  p.flush();
}

class nats_test : public ::testing::Test {
 protected:
  nats_test() { m_server.start(); }

  nats::connection connect() { return nats::connection(m_server.url()); }

  /// A connection with TRADES on trades.> created.
  nats::connection with_trades() {
    nats::connection c = connect();
    c.add_stream({.name = "TRADES", .subjects = {"trades.>"}});
    return c;
  }

  temp_dir m_dir;
  nats_server m_server{m_dir.root() / "s", "s1"};
};

}  // namespace asp::testing

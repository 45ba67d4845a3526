#include <asp/asp.hpp>
#include <asp/testing/fixture.hpp>

#include <iostream>

#ifdef WITH_DATA
#include <asp/data/time_text.hpp>
#endif

#ifdef WITH_NATS
#include <asp/error.hpp>
#include <asp/nats/connection.hpp>
#endif

#ifdef WITH_ASIO
#include <asp/asio/backend.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#endif

int main() {
  using namespace std::chrono_literals;
#ifdef WITH_DATA
  // asp::data links: the time is parsed by it.
  if (asp::data::parse_iso8601("2025-01-01T00:00:00Z") != asp::testing::t0) return 1;
#endif
#ifdef WITH_NATS
  // asp::nats links with nats.c: connecting to a closed port is a clear error.
  try {
    asp::nats::connection refused("nats://127.0.0.1:1");
    return 1;
  } catch (const asp::input_error&) {
  }
#endif
  auto print = [](asp::time_point t, int v) { std::cout << asp::to_string(t) << ' ' << v << '\n'; };
#ifdef WITH_ASIO
  // A loop that waits inside an io_context: an Asio handler hands it the work to print.
  boost::asio::io_context ioc;
  asp::asio::io_context_backend backend(ioc);
  asp::manual_clock clock(asp::testing::t0 + 24h);
  asp::loop loop(clock, backend);
  asp::work_guard guard = loop.hold();
  boost::asio::post(ioc, [&] {
    loop.call_at(
        asp::testing::t0 + 1s,
        [&](asp::time_point t, int v) {
          print(t, v);
          guard.reset();
        },
        42);
  });
  loop.run();
#else
  asp::testing::manual_loop m;
  m.loop.call_at(asp::testing::t0 + 1s, print, 42);
  m.loop.run();
#endif
}

// Writing a live source: a vendor's feed that calls back on a thread of its own, turned into a
// source that a stream can take after its history, with the public API alone.
//
// The feed's thread posts each quote into the loop through a loop_handle; the work it posts
// runs on the loop's thread, due at the quote's arrival stamp, and hands the quote to the
// stream waiting in next() by resuming it there. The source holds the run open (a work_guard)
// until the feed ends.
#include <coroutine>
#include <cstdio>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "example_support.hpp"

using namespace std::chrono_literals;

// Stands in for a vendor's client library: delivers quotes, then the end, from its own thread.
class vendor_feed {
 public:
  vendor_feed(std::vector<double> quotes, std::function<void(double)> on_quote,
              std::function<void()> on_end)
      : m_thread([quotes = std::move(quotes), on_quote = std::move(on_quote),
                  on_end = std::move(on_end)] {
          for (double q : quotes) on_quote(q);
          on_end();
        }) {}
  ~vendor_feed() { m_thread.join(); }
  vendor_feed(const vendor_feed&) = delete;
  vendor_feed& operator=(const vendor_feed&) = delete;

 private:
  std::thread m_thread;
};

// The source. Everything but the feed's callbacks runs on the loop's thread.
class quote_source {
 public:
  quote_source(asp::loop& loop, std::vector<double> quotes)
      : m_state(std::make_shared<state>(loop.hold())) {
    asp::loop_handle target = loop.handle();
    // On the feed's thread: post, never touch the state. The posted work owns what it needs.
    m_feed = std::make_unique<vendor_feed>(
        std::move(quotes),
        [target, s = m_state](double quote) mutable {
          try {
            target.post([s, quote](asp::time_point arrival) {
              s->arrive(asp::event<double>{arrival, quote});
            });
          } catch (const std::logic_error&) {
            // The loop is gone: nobody is left to take the quote.
          }
        },
        [target, s = m_state]() mutable {
          try {
            target.post([s] { s->arrive(std::nullopt); });
          } catch (const std::logic_error&) {
          }
        });
  }

  // One next() at a time (the stream's rule): the buffered quote, or a wait for the next.
  asp::task<std::optional<asp::event<double>>> next() {
    const std::shared_ptr<state> s = m_state;
    if (s->quotes.empty() && !s->ended) co_await quote_wait{s.get()};
    if (s->quotes.empty()) co_return std::nullopt;
    asp::event<double> q = s->quotes.front();
    s->quotes.pop_front();
    co_return q;
  }

 private:
  struct state {
    explicit state(asp::work_guard g) : guard(std::move(g)) {}
    std::deque<asp::event<double>> quotes;
    bool ended = false;
    std::coroutine_handle<> waiting;
    asp::work_guard guard;  // released at the end: the run may then end

    // In work the feed posted, on the loop's thread, due at the arrival: the stream waiting in
    // next() takes the quote in this same slot.
    void arrive(std::optional<asp::event<double>> quote) {
      if (quote) {
        quotes.push_back(*quote);
      } else {
        ended = true;
        guard.reset();
      }
      if (waiting) std::exchange(waiting, {}).resume();
    }
  };

  // The wait inside next(). Destroyed with a cancelled stream's frame: it then forgets the
  // waiter, so that nothing resumes a destroyed frame.
  struct quote_wait {
    state* s;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) noexcept { s->waiting = h; }
    void await_resume() const noexcept {}
    ~quote_wait() { s->waiting = {}; }
  };

  std::shared_ptr<state> m_state;
  std::unique_ptr<vendor_feed> m_feed;
};

int main(int argc, char** argv) {
  auto clock = example::make_clock(argc, argv);
  asp::loop loop(*clock);
  const asp::time_point started = clock->now();
  std::vector<asp::event<double>> history{{started - 2s, 100.00}, {started - 1s, 100.25}};
  loop.run({}, asp::process_stream(
                   [&](asp::time_point t, double quote) {
                     char line[32];
                     std::snprintf(line, sizeof line, "%s %.2f", t < started ? "past" : "live",
                                   quote);
                     example::log(t, line);
                   },
                   history, quote_source(loop, {100.50, 100.40, 100.75})));
}

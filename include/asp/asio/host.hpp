#pragma once

#include <asp/loop.hpp>

#include <boost/asio/io_context.hpp>

#include <functional>
#include <memory>

namespace asp::asio {

/// ASP inside Asio: drives `loop` from an application's `io_context`, on the thread that runs
/// it, with `loop.poll` (docs/design.md, "Run modes"). After each poll it waits — without
/// blocking the io_context — for the loop's next deadline (an Asio timer; a manual clock is
/// moved there at once instead) or for its wake-up descriptor (a post, a push, a stop from
/// another thread), then polls again. A poll runs everything that is due, so replay never
/// bounces through the io_context once per event.
///
/// The run ends as `loop.run` would (nothing left, `options.end`, or `stop()`); `on_done` is
/// then called. A failure of the run (asp::run_error) is thrown from the handler that polled,
/// so it comes out of `io_context::run()`. Destroying the host stops driving the loop.
class host {
 public:
  /// Starts driving: the first poll is posted to `ioc`. `loop` must outlive the host.
  host(boost::asio::io_context& ioc, asp::loop& loop, run_options options = {},
       std::function<void()> on_done = {});
  ~host();
  host(const host&) = delete;
  host& operator=(const host&) = delete;

  /// Whether the run is over.
  bool done() const noexcept;

 private:
  struct state;
  std::shared_ptr<state> m_state;
};

}  // namespace asp::asio

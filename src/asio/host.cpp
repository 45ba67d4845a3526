#include <asp/asio/host.hpp>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <utility>

namespace asp::asio {

struct host::state : std::enable_shared_from_this<host::state> {
  state(boost::asio::io_context& ioc, asp::loop& l, run_options opts, std::function<void()> done)
      : m_ioc(&ioc),
        m_loop(&l),
        m_options(std::move(opts)),
        m_on_done(std::move(done)),
        m_timer(ioc),
        m_wake(ioc, ::dup(l.wake_handle())) {}

  // Polls, then arranges the next poll. Each arrangement has a generation: whichever of the
  // timer and the wake-up fires first polls, and the other finds itself stale.
  void poll() {
    if (m_done) return;
    ++m_generation;
    m_timer.cancel();
    m_wake.cancel();
    if (!m_loop->poll(m_options)) {
      finish();
      return;
    }
    const std::uint64_t generation = m_generation;
    auto self = shared_from_this();
    if (const std::optional<time_point> at = m_loop->next_deadline()) {
      if (m_loop->clock().skip_to(*at) || *at <= m_loop->clock().now()) {
        boost::asio::post(*m_ioc, [self, generation] { self->poll_if(generation); });
        return;
      }
      m_timer.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
          *at - m_loop->clock().now()));
      m_timer.async_wait([self, generation](const boost::system::error_code& ec) {
        if (!ec) self->poll_if(generation);
      });
    }
    m_wake.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                      [self, generation](const boost::system::error_code& ec) {
                        if (!ec) self->poll_if(generation);
                      });
  }

  void poll_if(std::uint64_t generation) {
    if (generation == m_generation) poll();
  }

  void finish() {
    m_done = true;
    m_timer.cancel();
    m_wake.cancel();
    if (m_on_done) m_on_done();
  }

  void detach() {
    m_done = true;
    m_timer.cancel();
    m_wake.cancel();
    boost::system::error_code ignored;
    m_wake.close(ignored);
  }

  boost::asio::io_context* m_ioc;
  asp::loop* m_loop;
  run_options m_options;
  std::function<void()> m_on_done;
  boost::asio::steady_timer m_timer;
  boost::asio::posix::stream_descriptor m_wake;
  std::uint64_t m_generation = 0;
  bool m_done = false;
};

host::host(boost::asio::io_context& ioc, asp::loop& loop, run_options options,
           std::function<void()> on_done)
    : m_state(std::make_shared<state>(ioc, loop, std::move(options), std::move(on_done))) {
  boost::asio::post(ioc, [self = m_state] { self->poll(); });
}

host::~host() {
  m_state->detach();
}

bool host::done() const noexcept {
  return m_state->m_done;
}

}  // namespace asp::asio

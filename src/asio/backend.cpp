#include <asp/asio/backend.hpp>

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <system_error>

namespace asp::asio {

namespace {

int make_eventfd() {
  const int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "asp::asio: eventfd");
  return fd;
}

}  // namespace

io_context_backend::io_context_backend(boost::asio::io_context& ioc)
    : m_ioc(&ioc), m_fd(make_eventfd()), m_watch(ioc, ::dup(m_fd)) {}

io_context_backend::~io_context_backend() {
  boost::system::error_code ignored;
  m_watch.close(ignored);
  ::close(m_fd);
}

void io_context_backend::wake() noexcept {
  m_pending.store(true, std::memory_order_release);
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto written = ::write(m_fd, &one, sizeof one);
}

// A pending wait on the eventfd keeps the io_context busy, so run_one() blocks until a handler
// of the application's or a wake-up. A wake-up that completes it is read off the eventfd there,
// so that the next wait blocks again.
void io_context_backend::arm() {
  if (m_armed) return;
  m_armed = true;
  m_watch.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                     [this](const boost::system::error_code& ec) {
                       m_armed = false;
                       if (!ec) consume(true);
                     });
}

void io_context_backend::finish() {
  boost::system::error_code ignored;
  m_watch.cancel(ignored);  // its handler clears m_armed
  m_ioc->restart();
  m_ioc->run();
}

// Only when a wake-up may be pending (or `readable` says there is one) does it cost a system
// call: between two messages of a live feed the loop waits without asking the eventfd.
bool io_context_backend::consume(bool readable) noexcept {
  if (readable) {
    m_pending.store(false, std::memory_order_relaxed);
  } else if (!m_pending.load(std::memory_order_relaxed) ||
             !m_pending.exchange(false, std::memory_order_acq_rel)) {
    return false;  // a wake-up this misses has made the eventfd readable: the watch sees it
  }
  std::uint64_t count = 0;
  return ::read(m_fd, &count, sizeof count) == static_cast<ssize_t>(sizeof count);
}

bool io_context_backend::wait(std::optional<duration> timeout) {
  if (consume()) return true;
  arm();
  if (m_ioc->stopped()) m_ioc->restart();
  std::size_t ran = 0;
  if (!timeout) {
    ran = m_ioc->run_one();
  } else if (*timeout <= duration::zero()) {
    ran = m_ioc->poll_one();
  } else {
    ran = m_ioc->run_one_for(std::chrono::duration_cast<std::chrono::nanoseconds>(*timeout));
  }
  // A handler that ran may have handed work to the loop without waking it (it runs on the
  // loop's thread, inside the run): that counts as a wake-up, so the loop looks again.
  return consume() || ran > 0;
}

}  // namespace asp::asio

#include <asp/backend.hpp>

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <system_error>

namespace asp {

eventfd_backend::eventfd_backend() : m_fd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (m_fd < 0) throw std::system_error(errno, std::generic_category(), "asp: eventfd");
}

eventfd_backend::~eventfd_backend() {
  ::close(m_fd);
}

void eventfd_backend::wake() noexcept {
  m_pending.store(true, std::memory_order_release);
  const std::uint64_t one = 1;
  // EAGAIN means the counter is saturated, so a wake-up is pending anyway.
  [[maybe_unused]] const auto written = ::write(m_fd, &one, sizeof one);
}

bool eventfd_backend::wait(std::optional<duration> timeout) {
  const bool at_once = timeout && timeout->count() <= 0;
  if (at_once && !m_pending.load(std::memory_order_acquire)) return false;
  // Cleared before the eventfd is read: a wake-up after this point sets it again (at worst a
  // later wait asks the eventfd once for nothing), and none is missed.
  m_pending.store(false, std::memory_order_relaxed);
  ::pollfd pfd{m_fd, POLLIN, 0};
  ::timespec ts{};
  if (timeout) {
    const auto ns = timeout->count() > 0 ? timeout->count() : 0;
    ts.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
    ts.tv_nsec = static_cast<long>(ns % 1'000'000'000);
  }
  int ready;
  do {
    ready = ::ppoll(&pfd, 1, timeout ? &ts : nullptr, nullptr);
  } while (ready < 0 && errno == EINTR && !timeout);
  if (ready < 0 && errno != EINTR) {
    throw std::system_error(errno, std::generic_category(), "asp: ppoll");
  }
  if (ready <= 0) return false;
  std::uint64_t count;
  return ::read(m_fd, &count, sizeof count) == static_cast<ssize_t>(sizeof count);
}

}  // namespace asp

#include <asp/asio/signals.hpp>

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <stdexcept>
#include <system_error>
#include <utility>

namespace asp::asio {

namespace {

std::atomic<asp::loop*> g_loop{nullptr};
std::atomic<int> g_received{0};

extern "C" void on_signal(int signal) {
  int expected = 0;
  if (!g_received.compare_exchange_strong(expected, signal)) ::_exit(128 + signal);
  if (asp::loop* l = g_loop.load()) l->stop();
}

}  // namespace

stop_on_signals::stop_on_signals(asp::loop& loop, std::initializer_list<int> signals)
    : m_loop(&loop), m_signals(signals) {
  asp::loop* expected = nullptr;
  if (!g_loop.compare_exchange_strong(expected, &loop)) {
    throw std::logic_error("asp::asio::stop_on_signals: another one is active in this process");
  }
  g_received.store(0);
  struct sigaction action {};
  action.sa_handler = &on_signal;
  sigemptyset(&action.sa_mask);
  for (const int signal : m_signals) {
    struct sigaction previous {};
    if (::sigaction(signal, &action, &previous) != 0) {
      const int error = errno;
      for (std::size_t i = 0; i < m_previous.size(); ++i) {
        ::sigaction(m_signals[i], &m_previous[i], nullptr);
      }
      g_loop.store(nullptr);
      throw std::system_error(error, std::generic_category(), "asp::asio::stop_on_signals");
    }
    m_previous.push_back(previous);
  }
  loop.set_on_stop([this] {
    if (received() == 0 || m_acted) return;
    m_acted = true;
    for (const std::function<void()>& act : m_actions) act();
  });
}

void stop_on_signals::on_stop(std::function<void()> action) {
  m_actions.push_back(std::move(action));
}

stop_on_signals::~stop_on_signals() {
  m_loop->set_on_stop({});
  for (std::size_t i = 0; i < m_previous.size(); ++i) {
    ::sigaction(m_signals[i], &m_previous[i], nullptr);
  }
  g_loop.store(nullptr);
}

int stop_on_signals::received() const noexcept {
  return g_received.load();
}

}  // namespace asp::asio

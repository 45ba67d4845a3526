#pragma once

#include <coroutine>
#include <utility>

namespace asp::detail {

/// Sole owner of a coroutine frame: destroys it when dropped, moves but never copies. What
/// task, generator and async_generator hold.
template <class Promise>
class unique_frame {
 public:
  unique_frame() noexcept = default;
  explicit unique_frame(std::coroutine_handle<Promise> frame) noexcept : m_frame(frame) {}
  unique_frame(unique_frame&& other) noexcept : m_frame(std::exchange(other.m_frame, {})) {}
  unique_frame& operator=(unique_frame&& other) noexcept {
    if (this != &other) {
      reset();
      m_frame = std::exchange(other.m_frame, {});
    }
    return *this;
  }
  ~unique_frame() { reset(); }

  std::coroutine_handle<Promise> get() const noexcept { return m_frame; }
  explicit operator bool() const noexcept { return static_cast<bool>(m_frame); }

  void reset() noexcept {
    if (m_frame) std::exchange(m_frame, {}).destroy();
  }

 private:
  std::coroutine_handle<Promise> m_frame;
};

}  // namespace asp::detail

#pragma once

#include <asp/detail/loop_access.hpp>
#include <asp/error.hpp>
#include <asp/event.hpp>
#include <asp/loop.hpp>

#include <condition_variable>
#include <coroutine>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

namespace asp {

/// What `channel::push` does when the channel is full. Never a silent drop.
enum class when_full {
  block,  ///< the producer waits until the loop has taken an event (or the channel closes)
  fail,   ///< push throws asp::input_error naming the channel, its capacity and the event time
};

/// A bounded, thread-safe channel from producer threads into a loop: a live source for
/// `process_stream`.
///
/// Producers `push` values (stamped with the loop's real clock at the push) or (time, value)
/// events (the source's own time) from any thread; the consumer on the loop's thread takes
/// them in push order with `co_await next()`. A push wakes a waiting consumer with work due at
/// the event's time, so the event takes its place in the loop's order (contract C6) even
/// when it is pushed during replay; a push from the loop's own thread schedules that work at
/// once. While the channel is open it keeps its loop's run going (it holds a work_guard);
/// `close()` ends the stream once the buffered events are taken. Copies share one channel.
/// The channel may outlive its loop: pushing then throws std::logic_error.
template <class T>
class channel {
 public:
  /// A channel into `l` holding at most `capacity` events; `name` appears in errors.
  explicit channel(loop& l, std::size_t capacity = 1024, when_full policy = when_full::block,
                   std::string name = "channel")
      : m_state(std::make_shared<state>(l, capacity, policy, std::move(name))) {
    if (capacity == 0) throw std::invalid_argument("asp::channel: the capacity must be positive");
  }

  /// Pushes `value` stamped with the loop's real clock now. Thread-safe.
  void push(T value) { push(m_state->m_remote->clock().now(), std::move(value)); }

  /// Pushes `value` due at `time`. Thread-safe. Throws std::logic_error after close() or once
  /// the loop is destroyed; when full, blocks or throws asp::input_error as the policy says
  /// (blocking on the loop's own thread would never end, so there it throws too).
  void push(time_point time, T value) {
    state& s = *m_state;
    std::unique_lock lock(s.m_mutex);
    if (s.m_closed) throw std::logic_error("asp: push to the closed channel '" + s.m_name + "'");
    if (s.m_remote->gone()) {
      throw std::logic_error("asp: push to the channel '" + s.m_name +
                             "' after its loop was destroyed");
    }
    if (s.m_events.size() >= s.m_capacity) {
      if (s.m_policy == when_full::fail || s.on_loop_thread()) {
        throw input_error("asp: channel '" + s.m_name + "' is full (capacity " +
                          std::to_string(s.m_capacity) + "): the event at " + to_string(time) +
                          " was refused");
      }
      s.m_space.wait(lock, [&] { return s.m_events.size() < s.m_capacity || s.m_closed; });
      if (s.m_closed) throw std::logic_error("asp: push to the closed channel '" + s.m_name + "'");
    }
    s.m_events.push_back({time, std::move(value)});
    wake_consumer(lock, time);
  }

  /// No more pushes; the consumer sees the end after the buffered events. Thread-safe,
  /// idempotent. Releases the channel's hold on the loop.
  void close() {
    state& s = *m_state;
    std::unique_lock lock(s.m_mutex);
    if (s.m_closed) return;
    s.m_closed = true;
    s.m_space.notify_all();
    if (!s.m_remote->gone()) wake_consumer(lock, s.m_remote->clock().now());
    s.m_guard.reset();
  }

  /// The most events it holds.
  std::size_t capacity() const noexcept { return m_state->m_capacity; }

  /// Events buffered and not yet taken.
  std::size_t size() const {
    std::lock_guard lock(m_state->m_mutex);
    return m_state->m_events.size();
  }

  /// Awaitable, on the loop's thread: the next event in push order, or std::nullopt once the
  /// channel is closed and empty. Suspends while the channel is empty and open; resumed from
  /// the loop's queue when a producer pushes or closes.
  auto next() noexcept {
    struct awaiter {
      std::shared_ptr<state> m_state;
      std::optional<event<T>> m_taken;
      bool m_waiting = false;

      bool await_ready() const noexcept { return false; }
      bool await_suspend(std::coroutine_handle<> consumer) {
        std::lock_guard lock(m_state->m_mutex);
        if (take()) return false;
        m_state->m_consumer = consumer;
        m_waiting = true;
        return true;
      }
      std::optional<event<T>> await_resume() {
        if (m_waiting) {
          std::lock_guard lock(m_state->m_mutex);
          m_waiting = false;
          take();
        }
        return std::move(m_taken);
      }
      ~awaiter() {
        if (m_waiting) {
          std::lock_guard lock(m_state->m_mutex);
          m_state->m_consumer = {};
        }
      }
      // Under the lock: takes an event, or sees the end; false when it must wait.
      bool take() {
        if (!m_state->m_events.empty()) {
          m_taken.emplace(std::move(m_state->m_events.front()));
          m_state->m_events.pop_front();
          m_state->m_space.notify_one();
          return true;
        }
        return m_state->m_closed;
      }
    };
    return awaiter{m_state, std::nullopt};
  }

 private:
  struct state {
    state(loop& l, std::size_t capacity, when_full policy, std::string name)
        : m_remote(detail::loop_access::remote(l)),
          m_capacity(capacity),
          m_policy(policy),
          m_name(std::move(name)),
          m_guard(l) {}

    // The running loop, when this thread runs the channel's loop (then it is alive).
    loop* on_loop_thread() const noexcept {
      loop* current = loop::current();
      return current != nullptr && detail::loop_access::remote(*current) == m_remote ? current
                                                                                     : nullptr;
    }

    std::shared_ptr<detail::loop_remote> m_remote;
    std::size_t m_capacity;
    when_full m_policy;
    std::string m_name;
    work_guard m_guard;
    mutable std::mutex m_mutex;
    std::condition_variable m_space;
    std::deque<event<T>> m_events;
    bool m_closed = false;
    bool m_wake_posted = false;
    std::coroutine_handle<> m_consumer;
  };

  // Under the lock. The waiting consumer is resumed on the loop's thread by work due at `at`,
  // the time of the event it will take (or of the close), which checks that it still waits (a
  // cancelled consumer unregisters itself).
  void wake_consumer(std::unique_lock<std::mutex>&, time_point at) {
    state& s = *m_state;
    if (!s.m_consumer || s.m_wake_posted) return;
    s.m_wake_posted = true;
    auto wake = [weak = std::weak_ptr<state>(m_state)] {
      const std::shared_ptr<state> st = weak.lock();
      if (!st) return;
      std::coroutine_handle<> consumer;
      {
        std::lock_guard lock(st->m_mutex);
        st->m_wake_posted = false;
        consumer = std::exchange(st->m_consumer, {});
      }
      if (consumer) consumer.resume();
    };
    if (loop* l = s.on_loop_thread()) {
      l->call_at(at, std::move(wake));
    } else {
      s.m_remote->post(at, detail::posted_fn<loop>(
                               [wake = std::move(wake)](time_point, loop&) mutable { wake(); }));
    }
  }

  std::shared_ptr<state> m_state;
};

}  // namespace asp

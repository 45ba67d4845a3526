// The life of a spawned task on its loop: started in a callback's slot, finished, cancelled,
// detached (include/asp/join_handle.hpp, include/asp/spawn.hpp).
#include <asp/loop.hpp>
#include <asp/spawn.hpp>

#include <exception>
#include <string>
#include <typeinfo>
#include <utility>

namespace asp {

void loop::start_in_slot(task<void> body, const std::type_info& source) {
  detail::spawn_state_of<void>* state = make_spawned(std::move(body), {});
  state->m_type = &source;
  join_handle<void> handle{state};
  // The callback's work is this task's start (contract C2): no second trip through the
  // queue, which would put it behind work scheduled since and due later.
  state->m_root.resume();
}

void loop::finish_spawned(detail::spawn_state& state) noexcept {
  state.m_done = true;
  state.m_root = {};
  m_tasks.remove(state);
  if (state.m_joiner && !m_tearing_down) {
    try {
      state.m_joiner_resume = schedule_resume(state.m_joiner, m_now);
    } catch (...) {
      fail(std::current_exception(), "resuming the joiner of " + state.describe(), m_now);
    }
  } else if (state.m_error && (state.m_detached || state.m_fails_run)) {
    try {
      std::rethrow_exception(state.m_error);
    } catch (const cancelled&) {
    } catch (...) {
      fail(state.m_error, state.describe(), m_now);
    }
  }
  detail::release_spawned(state);
}

void loop::cancel_spawned(detail::spawn_state& state) {
  if (state.m_done) return;
  state.m_start.cancel();
  const std::coroutine_handle<> root = state.m_root;
  state.m_refs += 1;  // keep the state while its frames go
  root.destroy();
  state.m_error = std::make_exception_ptr(cancelled{});
  finish_spawned(state);
  detail::release_spawned(state);
}

void loop::detach_spawned(detail::spawn_state& state) noexcept {
  state.m_detached = true;
  if (state.m_done && state.m_error && !state.m_observed) {
    try {
      std::rethrow_exception(state.m_error);
    } catch (const cancelled&) {
    } catch (...) {
      fail(state.m_error, state.describe(), now());
    }
  }
  detail::release_spawned(state);
}

namespace detail {

void start_returned(loop& l, task<void> body, const std::type_info& source) {
  l.start_in_slot(std::move(body), source);
}

void finish_spawned(spawn_state& state) noexcept {
  state.owner()->finish_spawned(state);
}

bool cancel_spawned(spawn_state& state) {
  loop* owner = state.owner();
  if (state.m_done || owner == nullptr) return false;
  owner->cancel_spawned(state);
  return true;
}

void detach_spawned(spawn_state& state) noexcept {
  if (loop* owner = state.owner()) {
    owner->detach_spawned(state);
  } else {
    release_spawned(state);
  }
}

}  // namespace detail

}  // namespace asp

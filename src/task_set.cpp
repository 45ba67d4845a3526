#include <asp/detail/task_set.hpp>

#include <asp/detail/callback.hpp>
#include <asp/detail/spawn_state.hpp>

namespace asp::detail {

void task_set::add(spawn_state& state) noexcept {
  state.m_next = m_head;
  if (m_head != nullptr) m_head->m_prev = &state;
  m_head = &state;
}

void task_set::remove(spawn_state& state) noexcept {
  if (state.m_prev != nullptr) state.m_prev->m_next = state.m_next;
  if (state.m_next != nullptr) state.m_next->m_prev = state.m_prev;
  if (m_head == &state) m_head = state.m_next;
  state.m_prev = state.m_next = nullptr;
}

std::string spawn_state::describe() const {
  if (!m_name.empty()) return "task '" + m_name + "'";
  if (m_type != nullptr) return "task returned by callback " + type_name(*m_type);
  return "unnamed task";
}

}  // namespace asp::detail

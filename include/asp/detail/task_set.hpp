#pragma once

namespace asp::detail {

struct spawn_state;

/// The loop's set of unfinished spawned tasks (an intrusive list through their states), so that
/// a failed run or the loop's destruction can cancel every one of them.
class task_set {
 public:
  /// Some unfinished task, or nullptr when there is none.
  spawn_state* any() const noexcept { return m_head; }
  void add(spawn_state& state) noexcept;
  void remove(spawn_state& state) noexcept;

 private:
  spawn_state* m_head = nullptr;
};

}  // namespace asp::detail

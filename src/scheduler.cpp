#include <asp/detail/scheduler.hpp>

#include <string>
#include <utility>

namespace asp::detail {

scheduler::scheduler(std::unique_ptr<asp::clock> own_clock, asp::clock* clock,
                     std::unique_ptr<asp::backend> own_backend, asp::backend* backend)
    : m_remote(std::make_shared<loop_remote>(std::move(own_clock), clock, std::move(own_backend),
                                             backend, m_attention)) {}

work_ticket scheduler::resume_at(std::coroutine_handle<> h, time_point due) {
  struct resume {
    std::coroutine_handle<> m_frame;
    void operator()(time_point, loop&) const { m_frame.resume(); }
    static std::string describe() { return "coroutine"; }
  };
  work_node* node = make_node(resume{h});
  return {node, m_queue.push(node, due, m_started ? m_now : time_point::min())};
}

timer_handle scheduler::schedule_resume(std::coroutine_handle<> h, time_point due) {
  const detail::work_ticket ticket = resume_at(h, due);
  return {m_anchor, ticket.node, ticket.seq};
}

timer_handle scheduler::defer(work_node* node, duration delay) {
  const std::uint64_t seq = m_queue.number(node);
  m_deferred.push_back({delay, node});
  return {m_anchor, node, seq};
}

void scheduler::schedule_start(spawn_state& state, std::optional<time_point> at) {
  const std::coroutine_handle<> root = state.m_root;
  if (at) {
    state.m_start = schedule_resume(root, *at);
  } else if (m_started) {
    state.m_start = schedule_resume(root, m_now);
  } else {
    struct start {
      std::coroutine_handle<> m_frame;
      void operator()(time_point, loop&) const { m_frame.resume(); }
      static std::string describe() { return "start of a task"; }
    };
    state.m_start = defer(make_node(start{root}), duration::zero());
  }
}

}  // namespace asp::detail

#pragma once

#include <asp/detail/callback.hpp>
#include <asp/detail/work_queue.hpp>
#include <asp/task.hpp>
#include <asp/time.hpp>

#include <new>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <utility>

namespace asp {
class loop;
}

namespace asp::detail {

// How a piece of work is made: a callable in a pool node of the loop's work queue, a callback
// with its bound arguments, a callable posted from another thread.

/// Starts the task a callback returned, in the slot of the work running now (contract C2):
/// loop::start_in_slot, reached from where the loop's class is not complete.
void start_returned(loop& l, task<void> body, const std::type_info& source);

/// Reaches the callable that a pool node holds inline, or through a pointer when too big.
template <class C>
struct node_access {
  static constexpr bool fits = sizeof(C) <= pool_node::inline_size && alignof(C) <= 16;

  static C& get(work_node* n) noexcept {
    auto* storage = static_cast<pool_node*>(n)->m_storage;
    if constexpr (fits) {
      return *std::launder(reinterpret_cast<C*>(storage));
    } else {
      return **std::launder(reinterpret_cast<C**>(storage));
    }
  }

  static void destroy(work_node* n) noexcept {
    if constexpr (fits) {
      get(n).~C();
    } else {
      delete &get(n);
    }
  }
};

/// A node of `queue` holding `callable`, which is called as `callable(due, loop)` and names
/// itself in errors with a static `describe()`.
template <class D>
pool_node* make_node(work_queue& queue, D&& callable) {
  using C = std::decay_t<D>;
  using access = node_access<C>;
  pool_node* node = queue.acquire();
  try {
    if constexpr (access::fits) {
      ::new (static_cast<void*>(node->m_storage)) C(std::forward<D>(callable));
    } else {
      ::new (static_cast<void*>(node->m_storage)) C*(new C(std::forward<D>(callable)));
    }
  } catch (...) {
    queue.release(node);
    throw;
  }
  node->m_fn = [](work_node* n, work_op op, time_point due, loop& l, std::string* description) {
    switch (op) {
      case work_op::run: {
        struct finish {
          work_node* n;
          ~finish() { access::destroy(n); }
        } guard{n};
        access::get(n)(due, l);
        break;
      }
      case work_op::destroy:
        access::destroy(n);
        break;
      case work_op::describe:
        // Called after a failed run, when the callable is gone: only its type is known.
        *description = C::describe();
        break;
    }
  };
  return node;
}

/// A node of `queue` that calls `f(due, args...)` (or `f(args...)`); a coroutine function's
/// task starts in the node's slot.
template <class F, class... Args>
pool_node* make_callback(work_queue& queue, F&& f, Args&&... args) {
  using bound = bound_callback<std::decay_t<F>, std::decay_t<Args>...>;
  struct callback {
    bound m_bound;
    void operator()(time_point due, loop& l) {
      task<void> body = call_owning(m_bound, due);
      if (body.valid()) start_returned(l, std::move(body), typeid(std::decay_t<F>));
    }
    static std::string describe() { return "callback " + type_name(typeid(std::decay_t<F>)); }
  };
  return make_node(queue, callback{bound{std::forward<F>(f), {std::forward<Args>(args)...}}});
}

/// The work another thread posts: calls `f(stamp)` (or `f()`) on the loop; a coroutine
/// function's task starts in its slot.
template <class F>
posted_fn<loop> make_posted(F&& f) {
  using C = std::decay_t<F>;
  return posted_fn<loop>{
      [fn = bound_callback<C>{C(std::forward<F>(f)), {}}](time_point t, loop& l) mutable {
        task<void> body = call_owning(fn, t);
        if (body.valid()) start_returned(l, std::move(body), typeid(C));
      }};
}

}  // namespace asp::detail

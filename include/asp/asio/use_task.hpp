#pragma once

#include <asp/loop.hpp>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/system_error.hpp>

#include <coroutine>
#include <memory>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

namespace asp::asio {

/// Completion token: `co_await socket.async_read_some(buffer, asp::asio::use_task)` inside an
/// `asp::task`, for any Asio asynchronous operation.
///
/// The operation starts when awaited. Its completion resumes the task through the loop's
/// queue, due at its arrival stamp — the loop's real clock when the completion handler ran —
/// so live I/O takes its place in the loop's order like every other piece of work (contract
/// C6). An error completion (a non-zero `error_code` first argument) is thrown as
/// `boost::system::system_error`; otherwise `co_await` yields the remaining arguments: nothing,
/// one value, or a tuple. Destroying the awaiting task (cancelling it) cancels the operation
/// through Asio's per-operation cancellation, and its completion is then ignored.
///
/// The io_context must run on the loop's thread: under the loop (asp::asio::io_context_backend)
/// or above it (asp::asio::host).
struct use_task_t {
  constexpr use_task_t() noexcept = default;
};

/// The `use_task` token.
inline constexpr use_task_t use_task{};

namespace detail {

template <class... Args>
struct completion;

// What an operation and its completion share: the outcome, the waiter, the cancellation, and
// the initiation that starts it, in one allocation.
template <class... Args>
struct operation_state {
  virtual ~operation_state() = default;
  // Starts the operation with `handler` (once).
  virtual void launch(completion<Args...> handler) = 0;

  asp::loop* m_loop = nullptr;
  work_guard m_guard;  // an operation in flight keeps the run going: its completion is input
  std::coroutine_handle<> m_waiter;
  std::optional<std::tuple<std::decay_t<Args>...>> m_result;
  bool m_abandoned = false;
  boost::asio::cancellation_signal m_cancel;
};

template <class... Args>
struct first_is_error : std::false_type {};
template <class First, class... Rest>
struct first_is_error<First, Rest...>
    : std::is_same<std::decay_t<First>, boost::system::error_code> {};

// The handler an operation completes with: stores the outcome and posts the waiter's
// resumption to the loop. Called once, as an rvalue.
template <class... Args>
struct completion {
  std::shared_ptr<operation_state<Args...>> m_state;

  using cancellation_slot_type = boost::asio::cancellation_slot;
  cancellation_slot_type get_cancellation_slot() const noexcept { return m_state->m_cancel.slot(); }

  void operator()(Args... args) {
    std::shared_ptr<operation_state<Args...>> state = std::move(m_state);
    if (state->m_abandoned) return;
    state->m_result.emplace(std::move(args)...);
    // Let go of the run only once the resumption is posted.
    const work_guard guard = std::move(state->m_guard);
    asp::loop& l = *state->m_loop;
    // Due at its arrival stamp: scheduled at once when the handler runs on the loop's thread
    // inside a run, through the inbox otherwise.
    l.post([state = std::move(state)] {
      if (!state->m_abandoned) state->m_waiter.resume();
    });
  }
};

// The state of an operation whose initiation is of type `Initiation` with `InitArgs`.
template <class Initiation, class InitArgs, class... Args>
struct operation_state_of final : operation_state<Args...> {
  operation_state_of(Initiation init, InitArgs args)
      : m_init(std::move(init)), m_args(std::move(args)) {}
  void launch(completion<Args...> handler) override {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wsign-conversion"
#pragma GCC diagnostic ignored "-Wconversion"
    std::apply([&](auto&... a) { std::move(m_init)(std::move(handler), std::move(a)...); }, m_args);
#pragma GCC diagnostic pop
  }
  Initiation m_init;
  InitArgs m_args;
};

// The awaitable that `use_task` turns an operation into. Its type depends on the completion
// signature only, as Asio's and Beast's older interfaces (`async_result::return_type`) need.
template <class... Args>
class operation {
 public:
  explicit operation(std::shared_ptr<operation_state<Args...>> state) : m_state(std::move(state)) {}
  operation(operation&&) noexcept = default;
  operation& operator=(operation&&) = delete;
  ~operation() {
    if (m_launched && !m_state->m_result) {
      // The awaiting task is being destroyed while the operation runs.
      m_state->m_abandoned = true;
      m_state->m_guard.reset();
      m_state->m_cancel.emit(boost::asio::cancellation_type::terminal);
    }
  }

  bool await_ready() const noexcept { return false; }

  void await_suspend(std::coroutine_handle<> waiter) {
    m_state->m_loop = &current_loop();
    m_state->m_guard = m_state->m_loop->hold();
    m_state->m_waiter = waiter;
    m_launched = true;
    m_state->launch(completion<Args...>{m_state});
  }

  auto await_resume() {
    auto& result = *m_state->m_result;
    if constexpr (first_is_error<Args...>::value) {
      if (const boost::system::error_code& ec = std::get<0>(result)) {
        throw boost::system::system_error(ec);
      }
      return values<1>(result, std::make_index_sequence<sizeof...(Args) - 1>{});
    } else {
      return values<0>(result, std::make_index_sequence<sizeof...(Args)>{});
    }
  }

 private:
  template <std::size_t Offset, class Tuple, std::size_t... I>
  static auto values(Tuple& result, std::index_sequence<I...>) {
    if constexpr (sizeof...(I) == 0) {
      return;
    } else if constexpr (sizeof...(I) == 1) {
      return std::move(std::get<Offset>(result));
    } else {
      return std::make_tuple(std::move(std::get<Offset + I>(result))...);
    }
  }

  std::shared_ptr<operation_state<Args...>> m_state;
  bool m_launched = false;
};

}  // namespace detail
}  // namespace asp::asio

template <class... Args>
struct boost::asio::async_result<asp::asio::use_task_t, void(Args...)> {
  using return_type = asp::asio::detail::operation<Args...>;

  template <class Initiation, class... InitArgs>
  static return_type initiate(Initiation&& init, asp::asio::use_task_t, InitArgs&&... args) {
    using state =
        asp::asio::detail::operation_state_of<std::decay_t<Initiation>,
                                              std::tuple<std::decay_t<InitArgs>...>, Args...>;
    return return_type{std::make_shared<state>(
        std::forward<Initiation>(init),
        std::tuple<std::decay_t<InitArgs>...>{std::forward<InitArgs>(args)...})};
  }
};

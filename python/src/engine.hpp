#pragma once

// The engine behind the Python package: one asp::loop per `asp.run`, the Python coroutines it
// drives, and the work (streams, timers) that Python describes and the loop runs natively.
//
// Everything here runs on the thread of the asyncio loop that awaits `asp.run`, with the GIL
// held: the engine's loop is polled from Python (asp/_run.py), never run on a thread of its
// own. Waiting happens in asyncio, which releases the GIL; threads of C++ live sources only
// post into the loop and never touch a Python object.

#include "times.hpp"

#include <asp/clock.hpp>
#include <asp/loop.hpp>
#include <asp/stream.hpp>
#include <asp/task.hpp>

#include <pybind11/pybind11.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace asp::python {

namespace py = pybind11;

class engine;

/// `asp.testing.ManualClock`: a real clock that moves only when told to (or when the engine
/// would otherwise wait for it), shared between Python and the engines that run on it.
struct manual_clock_ref {
  explicit manual_clock_ref(time_point start) : clock(std::make_shared<manual_clock>(start)) {}
  std::shared_ptr<manual_clock> clock;
};

/// Work that Python describes and the loop runs natively: a stream from `process_stream`, a
/// periodic timer. `asp.run` starts it; a coroutine that awaits it starts it and waits for its
/// end. Like a coroutine object, it runs once.
struct work {
  std::string name;
  std::function<stream_handle(engine&)> start;
  bool used = false;

  /// Starts the work on `e`; raises ValueError if it was started before.
  stream_handle take(engine& e);
};

/// Cancels a stream that its awaiter leaves before it ended (the awaiter was cancelled): work
/// awaited is part of the awaiter, as an awaited coroutine is in asyncio.
struct cancel_unjoined {
  stream_handle& handle;
  ~cancel_unjoined() {
    if (!handle.done()) handle.cancel();
  }
};

/// What `await asp.sleep(...)` yields to the engine: a virtual-time sleep, or (for
/// asp.testing.create_async_generator) a wait on the real clock.
struct sleep_request {
  enum class kind { relative, absolute, real } what = kind::relative;
  std::int64_t ns = 0;
  bool yielded = false;
};

/// The Python object of a sleep request (asp._engine.Sleep): a plain CPython type, since a
/// sleep is on the per-event path of `async def` callbacks. It is its own awaitable and
/// iterator: it yields itself once, then ends.
struct sleep_object {
  PyObject_HEAD sleep_request request;
};

/// Creates the type asp._engine.Sleep and the functions asp._engine.sleep and real_sleep in
/// `m` (module.cpp).
void bind_sleep(py::module_& m);

class engine {
 public:
  /// An engine on the system clock, or on `manual`.
  explicit engine(std::optional<manual_clock_ref> manual);
  ~engine();
  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;

  asp::loop& loop();
  /// How times are shown to Python: the kind of the run's start_time; without one, of the first
  /// event time the run reads (a past event, a timer's start); else naive local time.
  const time_kind& kind() const noexcept { return m_kind; }
  void set_kind(time_kind kind) {
    m_kind = std::move(kind);
    m_kind_known = true;
  }
  /// Takes the kind of `dt` if none is known yet.
  void note_kind(PyObject* dt) {
    if (!m_kind_known) set_kind(time_kind::of(dt));
  }

  /// The replay rate passed to every poll (std::nullopt: as fast as possible).
  void set_rate(std::optional<double> rate) { m_rate = rate; }

  /// Starts `w` — a coroutine object, any awaitable, or asp work — as a task of the run.
  void start(py::handle w);

  /// One step of the run (loop::poll) with this engine current. Returns whether the run goes
  /// on. A failure of user code is raised as the original Python exception, with a note that
  /// names the stream or task and the virtual time.
  bool poll(std::optional<time_point> start);

  /// When to poll again, as nanoseconds of the real clock; std::nullopt: when woken.
  std::optional<time_point> next_deadline();

  /// The eventfd that becomes readable when input arrives for the loop.
  int wake_handle();

  /// Moves a manual clock to `t`; false on the system clock.
  bool skip_to(time_point t);

  bool manual() const noexcept { return m_manual != nullptr; }
  /// Tells runs apart: a number no other engine of the process has.
  std::uint64_t id() const noexcept { return m_id; }
  time_point real_now() const;

  /// How many asyncio awaitables the engine's coroutines are waiting for.
  std::uint64_t in_flight() const noexcept { return m_in_flight; }

  /// Whether this engine is the one being polled now.
  bool polling() const noexcept;

  /// A task of the run (asp._run.Task) finished at now(): its asyncio future is done, and the
  /// callbacks asyncio runs next (gather's, wait_for's) may complete futures that coroutines of
  /// the run await. Until `end_settle`, the run yields to asyncio without moving the virtual
  /// clock (a poll returns before its next piece of work), and those coroutines resume at the
  /// virtual time their future completed, not at the real time asyncio got to them.
  void task_finished();
  bool settling() const noexcept { return m_settling; }
  void end_settle() noexcept { m_settling = false; }

  /// Schedules `resume` for a coroutine whose engine-bound future completed (see
  /// task_finished): at `at` while polling or settling, else as input posted now.
  void resume_at(time_point at, std::function<void()> resume);

  /// Destroys whatever is pending: coroutines (their asyncio callbacks are removed), streams,
  /// timers. Idempotent.
  void close() noexcept;

  /// Makes this engine the one `asp.now()`, `asp.call_later` and `asp.sleep` refer to while
  /// its run is active (between polls too); runs nest.
  void enter();
  void leave() noexcept;

  /// The engine running now: the one being polled, else the innermost active run.
  static engine* current() noexcept;
  /// As current(), or raises RuntimeError naming `what` outside a run.
  static engine& require(const char* what);

  std::uint64_t m_in_flight = 0;

 private:
  std::shared_ptr<manual_clock> m_manual;
  std::unique_ptr<asp::clock> m_system;
  std::optional<asp::loop> m_loop;
  time_kind m_kind;
  bool m_kind_known = false;
  std::optional<double> m_rate;
  bool m_entered = false;
  bool m_settling = false;
  std::uint64_t m_id;
};

/// Drives a Python coroutine (or any awaitable) on the engine's loop as an asp task: what it
/// yields decides how it waits (asp.sleep: the virtual clock; asp work: its end; an asyncio
/// future: its completion, due at its arrival; a bare yield: after the work due now). Stores
/// the coroutine's value in `*result` when given; raises its exception.
task<void> drive(engine& e, py::object awaitable, py::object* result = nullptr);

/// Whether `o` is something drive() can run: a coroutine, or an object with __await__.
bool is_awaitable(PyObject* o) noexcept;

/// Whether `o` is asp work (process_stream(...), timer(...)).
bool is_work(PyObject* o) noexcept;

/// The tasks of a run (tasks.cpp). Inside a run, asyncio.create_task, ensure_future and gather
/// make asp._run.Task futures (an asyncio.Future subclass) through the task factory that
/// asp.run installs; the work behind each runs on the engine, on the virtual clock.
///
/// Whether `what` becomes such a task: asp work while a run is active; a coroutine (or any
/// awaitable) when created by code that a run is running now.
bool wants_task(py::handle what) noexcept;

/// Starts `what` on the current engine as a task whose outcome completes `future` (an
/// asp._run.Task: its value, its exception with a note naming the task and the virtual time,
/// or cancelled); returns the control that cancels it (future.cancel calls it).
py::object spawn_task(py::handle what, py::handle future, std::string name);

/// The type of asp._run.Task (set when asp._run is imported), and whether `future` is bound to
/// the engine: such a Task, or a future of asyncio.gather whose children all are. The time an
/// engine-bound future completed: the latest finish among its tasks; std::nullopt if none has.
void set_task_type(py::handle type);
bool engine_bound(PyObject* future);
std::optional<time_point> bound_done_at(PyObject* future);

/// Registers Task control and the task functions in `m` (tasks.cpp).
void bind_tasks(py::module_& m);

/// A name for error messages: a function's __qualname__, a coroutine's, else its type.
std::string describe(py::handle o);

/// Adds `note` to the Python exception held by `e` (PEP 678), once: a note starting with
/// "asp:" is not added twice.
void add_note(py::error_already_set& e, const std::string& note);

/// The Python types of sleep requests and of work, which drive() dispatches on; set once when
/// the module loads.
void set_sleep_type(PyTypeObject* type) noexcept;
PyTypeObject* sleep_type() noexcept;
void set_work_type(PyTypeObject* type) noexcept;

/// Registers the streams' functions (process_stream, timer) in `m` (streams.cpp).
void bind_streams(py::module_& m);

/// Registers the data sources (read_csv, read_log) in `m` (data.cpp).
void bind_data(py::module_& m);

}  // namespace asp::python

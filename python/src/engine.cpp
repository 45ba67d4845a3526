#include "engine.hpp"

#include <asp/error.hpp>
#include <asp/sleep.hpp>
#include <asp/spawn.hpp>

#include <coroutine>
#include <exception>
#include <utility>

namespace asp::python {

namespace {

PyTypeObject* g_sleep_type = nullptr;
PyTypeObject* g_work_type = nullptr;

// The engine being polled, and the runs active (awaiting between polls), innermost last.
engine* g_polling = nullptr;
std::vector<engine*> g_active;

// Waits for an asyncio future (anything with `_asyncio_future_blocking`, as asyncio's Task
// does): registers a done callback that schedules the coroutine's resumption; the future's own
// __await__ then returns its result or raises its exception inside the coroutine.
//
// - A future of asyncio's own is input: the resumption is posted, due at the real time the
//   future completes (contract C6), and until then the awaiter holds the run open as a live
//   source does, counted as in flight (a manual clock waits for it).
// - An engine-bound future (see engine_bound: a task of the run, or a gather of them)
//   completes in asyncio's callbacks after the task finished, while the run settles: the
//   coroutine resumes at the virtual time it completed. It holds the run open but is not in
//   flight: a manual clock moves on to the engine's next deadline meanwhile.
class future_awaiter {
  // Shared by the awaiter and the done callback: the callback may fire after the coroutine
  // was destroyed (a cancelled run), and must then do nothing.
  struct wake_state {
    engine* owner;
    std::coroutine_handle<> handle;
    work_guard hold;
    bool bound;
    bool frame_alive = true;
    bool fired = false;
  };

 public:
  future_awaiter(engine& e, py::object future, bool bound)
      : m_engine(e), m_future(std::move(future)), m_bound(bound) {}
  future_awaiter(const future_awaiter&) = delete;
  future_awaiter& operator=(const future_awaiter&) = delete;
  ~future_awaiter() {
    if (!m_state) return;
    m_state->frame_alive = false;
    m_state->hold.reset();
    if (!m_bound) --m_engine.m_in_flight;
    if (!m_state->fired) {
      // The coroutine is destroyed before the future completed: take the callback back.
      PyObject *type = nullptr, *value = nullptr, *trace = nullptr;
      PyErr_Fetch(&type, &value, &trace);
      PyObject* r =
          PyObject_CallMethod(m_future.ptr(), "remove_done_callback", "O", m_callback.ptr());
      Py_XDECREF(r);
      PyErr_Clear();
      PyErr_Restore(type, value, trace);
    }
  }

  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) {
    auto state =
        std::make_shared<wake_state>(wake_state{&m_engine, h, m_engine.loop().hold(), m_bound});
    m_callback = py::cpp_function([state](py::handle future) {
      if (state->fired || !state->frame_alive) return;
      state->fired = true;
      auto resume = [state] {
        if (state->frame_alive) state->handle.resume();
      };
      engine& e = *state->owner;
      if (state->bound) {
        e.resume_at(bound_done_at(future.ptr()).value_or(e.loop().now()), resume);
      } else {
        e.loop().post(resume);
      }
      state->hold.reset();
    });
    m_future.attr("_asyncio_future_blocking") = false;
    m_future.attr("add_done_callback")(m_callback);
    m_state = std::move(state);
    if (!m_bound) ++m_engine.m_in_flight;
  }
  void await_resume() const noexcept {}

 private:
  engine& m_engine;
  py::object m_future;
  bool m_bound;
  py::object m_callback;
  std::shared_ptr<wake_state> m_state;
};

bool is_asyncio_future(PyObject* o) {
  PyObject* blocking = PyObject_GetAttrString(o, "_asyncio_future_blocking");
  if (blocking == nullptr) {
    PyErr_Clear();
    return false;
  }
  const bool yes = blocking == Py_True;
  Py_DECREF(blocking);
  return yes;
}

// What drive() sends into: the coroutine itself, else the iterator of __await__().
py::object await_iterator(py::object awaitable) {
  PyObject* o = awaitable.ptr();
  if (PyCoro_CheckExact(o) || PyGen_CheckExact(o)) return awaitable;
  PyAsyncMethods* am = Py_TYPE(o)->tp_as_async;
  if (am == nullptr || am->am_await == nullptr) {
    throw py::type_error("asp: " + describe(awaitable) +
                         " is not awaitable: expected a coroutine or an object with __await__");
  }
  PyObject* it = am->am_await(o);
  if (it == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(it);
}

}  // namespace

void set_sleep_type(PyTypeObject* type) noexcept {
  g_sleep_type = type;
}

PyTypeObject* sleep_type() noexcept {
  return g_sleep_type;
}

void set_work_type(PyTypeObject* type) noexcept {
  g_work_type = type;
}

bool is_work(PyObject* o) noexcept {
  return Py_TYPE(o) == g_work_type;
}

bool is_awaitable(PyObject* o) noexcept {
  if (PyCoro_CheckExact(o)) return true;
  PyAsyncMethods* am = Py_TYPE(o)->tp_as_async;
  return am != nullptr && am->am_await != nullptr;
}

std::string describe(py::handle o) {
  for (const char* attr : {"__qualname__", "__name__"}) {
    if (py::hasattr(o, attr)) {
      py::object name = o.attr(attr);
      if (py::isinstance<py::str>(name)) return name.cast<std::string>();
    }
  }
  if (Py_TYPE(o.ptr()) == g_work_type) return o.cast<work&>().name;
  return Py_TYPE(o.ptr())->tp_name;
}

void add_note(py::error_already_set& e, const std::string& note) {
  py::object value = e.value();
  if (value.is_none()) return;
  if (py::hasattr(value, "__notes__")) {
    for (py::handle existing : value.attr("__notes__")) {
      if (py::isinstance<py::str>(existing) && existing.cast<std::string>().rfind("asp:", 0) == 0) {
        return;
      }
    }
  }
  if (py::hasattr(value, "add_note")) value.attr("add_note")(note);
}

stream_handle work::take(engine& e) {
  if (used) throw py::value_error("asp: " + name + " has already been started; work runs once");
  used = true;
  return start(e);
}

// Closes a coroutine that is destroyed before it finished (a run that failed or was
// cancelled), so that its `finally` blocks and context managers run, as asyncio does.
struct close_unfinished {
  py::object& it;
  bool finished = false;
  ~close_unfinished() {
    if (finished || !it || !py::hasattr(it, "close")) return;
    PyObject *type = nullptr, *value = nullptr, *trace = nullptr;
    PyErr_Fetch(&type, &value, &trace);
    PyObject* r = PyObject_CallMethod(it.ptr(), "close", nullptr);
    if (r == nullptr) {
      PyErr_WriteUnraisable(it.ptr());
    }
    Py_XDECREF(r);
    PyErr_Restore(type, value, trace);
  }
};

task<void> drive(engine& e, py::object awaitable, py::object* result) {
  py::object it = await_iterator(std::move(awaitable));
  close_unfinished closer{it};
  for (;;) {
    PyObject* out = nullptr;
    const PySendResult r = PyIter_Send(it.ptr(), Py_None, &out);
    if (r != PYGEN_NEXT) closer.finished = true;
    if (r == PYGEN_RETURN) {
      py::object value = py::reinterpret_steal<py::object>(out);
      if (result != nullptr) *result = std::move(value);
      co_return;
    }
    if (r == PYGEN_ERROR) throw py::error_already_set();
    py::object yielded = py::reinterpret_steal<py::object>(out);
    PyObject* y = yielded.ptr();
    if (Py_TYPE(y) == g_sleep_type) {
      const sleep_request& s = reinterpret_cast<sleep_object*>(y)->request;
      loop& l = e.loop();
      time_point due{};
      switch (s.what) {
        case sleep_request::kind::relative:
          due = saturating_add(l.now(), duration{s.ns});
          break;
        case sleep_request::kind::absolute:
          due = time_point{duration{s.ns}};
          break;
        case sleep_request::kind::real:
          due = saturating_add(l.clock().now(), duration{s.ns});
          break;
      }
      co_await sleep_awaiter(l, due);
    } else if (y == Py_None) {
      // A bare yield (asyncio.sleep(0)): after the work that is due now.
      co_await sleep_awaiter(e.loop(), e.loop().now());
    } else if (Py_TYPE(y) == g_work_type) {
      stream_handle h = yielded.cast<work&>().take(e);
      cancel_unjoined stop{h};
      co_await h;
    } else if (is_asyncio_future(y)) {
      const bool bound = engine_bound(y);
      co_await future_awaiter(e, std::move(yielded), bound);
    } else {
      throw py::type_error("asp: a coroutine yielded " + std::string(py::repr(yielded)) +
                           "; ASP's coroutines await asp.sleep, asp work and asyncio awaitables");
    }
  }
}

engine::engine(std::optional<manual_clock_ref> manual) {
  static std::uint64_t engines = 0;
  m_id = ++engines;
  if (manual) {
    m_manual = manual->clock;
    m_loop.emplace(*m_manual);
  } else {
    m_system = std::make_unique<asp::system_clock>();
    m_loop.emplace(*m_system);
  }
}

engine::~engine() {
  leave();
  close();
}

asp::loop& engine::loop() {
  if (!m_loop) throw std::logic_error("asp: this run is over");
  return *m_loop;
}

void engine::start(py::handle w) {
  if (Py_TYPE(w.ptr()) == g_work_type) {
    w.cast<work&>().take(*this).detach();
    return;
  }
  if (!is_awaitable(w.ptr())) {
    throw py::type_error(
        "asp.run: expected coroutine objects (or asp.process_stream(...), "
        "asp.timer(...)), got " +
        std::string(Py_TYPE(w.ptr())->tp_name));
  }
  spawn(loop(), drive(*this, py::reinterpret_borrow<py::object>(w)), describe(w)).detach();
}

bool engine::poll(std::optional<time_point> start) {
  asp::loop& l = loop();
  engine* previous = std::exchange(g_polling, this);
  struct restore {
    engine* previous;
    ~restore() { g_polling = previous; }
  } guard{previous};
  try {
    run_options options;
    options.start = start;
    options.rate = m_rate;
    // A poll that returned for a task's end (task_finished) is not the end of the run.
    return l.poll(std::move(options)) || m_settling;
  } catch (const run_error& failure) {
    const std::string note =
        "asp: raised in " + failure.where() + " at virtual time " + to_string(failure.at());
    try {
      std::rethrow_if_nested(failure);
    } catch (py::error_already_set& original) {
      add_note(original, note);
      throw;
    } catch (const py::builtin_exception& raised) {
      // A TypeError or ValueError of the binding's own (a malformed event): as Python's.
      raised.set_error();
      py::error_already_set as_python;
      add_note(as_python, note);
      throw as_python;
    } catch (const input_error&) {
      // Input that breaks a rule (events out of order): the message names stream and times.
      throw py::value_error(failure.what());
    } catch (...) {
      throw std::runtime_error(failure.what());
    }
    throw std::runtime_error(failure.what());
  }
}

std::optional<time_point> engine::next_deadline() {
  return loop().next_deadline();
}

int engine::wake_handle() {
  return loop().wake_handle();
}

bool engine::skip_to(time_point t) {
  return m_manual != nullptr && m_manual->skip_to(t);
}

time_point engine::real_now() const {
  return m_manual ? m_manual->now() : m_system->now();
}

bool engine::polling() const noexcept {
  return g_polling == this;
}

void engine::task_finished() {
  m_settling = true;
  if (polling()) loop().stop();
}

void engine::resume_at(time_point at, std::function<void()> resume) {
  asp::loop& l = loop();
  if (polling() || m_settling) {
    (void)l.call_at(at, [resume = std::move(resume)](time_point) { resume(); });
  } else {
    l.post([resume = std::move(resume)] { resume(); });
  }
}

void engine::close() noexcept {
  m_loop.reset();
}

void engine::enter() {
  if (m_entered) return;
  g_active.push_back(this);
  m_entered = true;
}

void engine::leave() noexcept {
  if (!m_entered) return;
  std::erase(g_active, this);
  m_entered = false;
}

engine* engine::current() noexcept {
  if (g_polling != nullptr) return g_polling;
  return g_active.empty() ? nullptr : g_active.back();
}

engine& engine::require(const char* what) {
  engine* e = current();
  if (e == nullptr || !e->m_loop) {
    throw std::runtime_error(std::string("asp.") + what +
                             "() needs a running ASP engine: call it from code that asp.run runs");
  }
  return *e;
}

}  // namespace asp::python

// The tasks of a run: what asyncio.create_task, ensure_future and gather make inside asp.run.
//
// asp.run installs a task factory on its asyncio loop (asp/_run.py). For asp work, and for a
// coroutine created by code the run is running, the factory makes an asp._run.Task — an
// asyncio.Future — and calls spawn_task: the work runs on the engine as a spawned task, on the
// virtual clock, and its outcome completes the future. A coroutine of the run that awaits such
// a future (or a gather of them) resumes at the virtual time it completed (engine.cpp,
// future_awaiter), after the run let asyncio run the future's callbacks (settling).

#include "engine.hpp"

#include <asp/error.hpp>
#include <asp/spawn.hpp>

#include <exception>
#include <memory>
#include <string>
#include <utility>

namespace asp::python {

namespace {

PyObject* g_task_type = nullptr;

// Calls `method` on `future` with the pending Python error (if any) kept aside: used from
// destructors, which may run while an exception propagates.
void call_quietly(py::handle future, const char* method) {
  PyObject *type = nullptr, *value = nullptr, *trace = nullptr;
  PyErr_Fetch(&type, &value, &trace);
  PyObject* r = PyObject_CallMethod(future.ptr(), method, nullptr);
  if (r == nullptr) PyErr_WriteUnraisable(future.ptr());
  Py_XDECREF(r);
  PyErr_Restore(type, value, trace);
}

bool future_done(py::handle future) {
  return future.attr("done")().cast<bool>();
}

// A failure of the task's work as the Python exception to set on its future, with a note
// naming the task and the virtual time; std::nullopt for a cancellation.
std::optional<py::object> exception_of(std::exception_ptr error, const std::string& note) {
  try {
    std::rethrow_exception(std::move(error));
  } catch (const cancelled&) {
    return std::nullopt;
  } catch (py::error_already_set& raised) {
    if (raised.matches(py::module_::import("asyncio").attr("CancelledError"))) return std::nullopt;
    add_note(raised, note);
    return raised.value();
  } catch (const py::builtin_exception& raised) {
    raised.set_error();
    py::error_already_set as_python;
    add_note(as_python, note);
    return as_python.value();
  } catch (const input_error& bad) {
    py::value_error(bad.what()).set_error();
    py::error_already_set as_python;
    add_note(as_python, note);
    return as_python.value();
  } catch (const std::exception& failure) {
    PyErr_SetString(PyExc_RuntimeError, failure.what());
    py::error_already_set as_python;
    add_note(as_python, note);
    return as_python.value();
  }
}

// Cancels the future of a task whose frames are destroyed before it finished: cancelled by
// its future, or by the end of a run that failed.
struct cancel_unfinished {
  engine& owner;
  py::object& future;
  bool finished = false;
  ~cancel_unfinished() {
    if (finished || !future) return;
    call_quietly(future, "cancel");
    if (owner.polling()) owner.task_finished();
  }
};

task<void> run_task(engine& e, py::object what, py::object future, std::string name) {
  cancel_unfinished guard{e, future};
  py::object value = py::none();
  std::exception_ptr error;
  try {
    if (is_work(what.ptr())) {
      stream_handle h = what.cast<work&>().take(e);
      cancel_unjoined stop{h};
      co_await h;
    } else {
      co_await drive(e, what, &value);
    }
  } catch (...) {
    error = std::current_exception();
  }
  guard.finished = true;
  const time_point at = e.loop().now();
  future.attr("_asp_done_ns") = at.time_since_epoch().count();
  if (future_done(future)) {
    // Cancelled meanwhile: its callbacks are scheduled already.
  } else if (!error) {
    future.attr("set_result")(value);
  } else if (std::optional<py::object> raised = exception_of(
                 error, "asp: raised in task '" + name + "' at virtual time " + to_string(at))) {
    future.attr("set_exception")(*raised);
  } else {
    future.attr("cancel")();
  }
  e.task_finished();
}

// What a Task holds to cancel its work: the spawned task's handle. Cancelling is deferred to a
// piece of work of its own, so that a task may cancel itself, as an asyncio task may.
struct task_control {
  struct state {
    engine* owner;
    join_handle<void> handle;
  };
  std::shared_ptr<state> m_state;

  bool cancel() {
    // A task that has not finished has a live engine: ending the run cancels its tasks.
    if (!m_state || m_state->handle.done()) return false;
    engine& e = *m_state->owner;
    auto stop = [held = m_state] { held->handle.cancel(); };
    if (e.polling()) {
      (void)e.loop().call_at(e.loop().now(), [stop](time_point) { stop(); });
    } else {
      e.loop().post(stop);
    }
    return true;
  }
};

}  // namespace

void set_task_type(py::handle type) {
  Py_XINCREF(type.ptr());
  Py_XDECREF(g_task_type);
  g_task_type = type.ptr();
}

bool engine_bound(PyObject* future) {
  if (g_task_type == nullptr) return false;
  const int is_task = PyObject_IsInstance(future, g_task_type);
  if (is_task < 0) {
    PyErr_Clear();
    return false;
  }
  if (is_task == 1) return true;
  // asyncio.gather's future keeps its children in `_children`.
  PyObject* children = PyObject_GetAttrString(future, "_children");
  if (children == nullptr) {
    PyErr_Clear();
    return false;
  }
  bool bound = PyList_Check(children) && PyList_GET_SIZE(children) > 0;
  for (Py_ssize_t i = 0; bound && i < PyList_GET_SIZE(children); ++i) {
    bound = engine_bound(PyList_GET_ITEM(children, i));
  }
  Py_DECREF(children);
  return bound;
}

std::optional<time_point> bound_done_at(PyObject* future) {
  py::handle f{future};
  if (py::hasattr(f, "_children")) {
    std::optional<time_point> latest;
    for (py::handle child : f.attr("_children")) {
      if (const std::optional<time_point> at = bound_done_at(child.ptr())) {
        if (!latest || *latest < *at) latest = at;
      }
    }
    return latest;
  }
  py::object ns = py::getattr(f, "_asp_done_ns", py::none());
  if (ns.is_none()) return std::nullopt;
  return time_point{duration{ns.cast<std::int64_t>()}};
}

bool wants_task(py::handle what) noexcept {
  engine* e = engine::current();
  if (e == nullptr) return false;
  if (is_work(what.ptr())) return true;
  if (!e->polling()) return false;
  PyObject* o = what.ptr();
  if (PyGen_CheckExact(o)) {
    // A generator-based coroutine (types.coroutine), as ensure_future wraps an awaitable.
    try {
      const int flags = what.attr("gi_code").attr("co_flags").cast<int>();
      return (flags & CO_ITERABLE_COROUTINE) != 0;
    } catch (const py::error_already_set&) {
      return false;
    }
  }
  return is_awaitable(o);
}

py::object spawn_task(py::handle what, py::handle future, std::string name) {
  engine& e = engine::require("create_task");
  auto state = std::make_shared<task_control::state>();
  state->owner = &e;
  state->handle = spawn(e.loop(),
                        run_task(e, py::reinterpret_borrow<py::object>(what),
                                 py::reinterpret_borrow<py::object>(future), name),
                        name);
  // Started from asyncio's side of the run (not while polling): wake the run to start it.
  if (!e.polling()) e.loop().post([] {});
  return py::cast(task_control{std::move(state)});
}

void bind_tasks(py::module_& m) {
  py::class_<task_control>(m, "TaskControl", "Cancels the work of an asp._run.Task")
      .def("cancel", &task_control::cancel,
           "Stops the task's work before its next step; false if it has finished");
  m.def("set_task_type", &set_task_type, "Tells the engine the type of asp._run.Task");
  m.def("wants_task", &wants_task,
        "Whether asyncio's task factory should make a task of the run from `what`");
  m.def("spawn_task", &spawn_task, py::arg("what"), py::arg("future"), py::arg("name"),
        "Starts `what` as a task of the current run, completing `future`");
}

}  // namespace asp::python

// asp._engine: the C++ engine under the Python package `asp` (python/asp/). The package's
// modules hold the Python-facing API; this module holds what runs per event.

#include "engine.hpp"
#include "native.hpp"
#include "streams.hpp"
#include "times.hpp"

#include <asp/error.hpp>

#include <pybind11/stl.h>

#include <optional>
#include <string>

namespace py = pybind11;
using namespace asp::python;

namespace {

std::optional<std::int64_t> ns_of(std::optional<asp::time_point> t) {
  if (!t) return std::nullopt;
  return t->time_since_epoch().count();
}

// The due time of call_later's `delay`: None (now), seconds, a timedelta, or a datetime.
asp::time_point due_of(asp::loop& l, py::handle delay) {
  if (delay.is_none()) return l.now();
  if (is_datetime(delay.ptr())) return to_time(delay.ptr(), "asp.call_later: delay");
  return asp::saturating_add(l.now(), to_duration(delay.ptr(), "asp.call_later: delay"));
}

// The note on a Python exception raised by what call_later scheduled: its kind ("callback",
// "coroutine"), its name and its due time.
std::string call_later_note(const char* kind, const std::string& what, asp::time_point due) {
  return std::string("asp: raised in call_later ") + kind + " '" + what + "' due at " +
         asp::to_string(due);
}

asp::task<void> noted(engine& e, py::object coroutine, std::string what, asp::time_point due) {
  try {
    co_await drive(e, std::move(coroutine));
  } catch (py::error_already_set& error) {
    add_note(error, call_later_note("coroutine", what, due));
    throw;
  }
}

// The callable call_later schedules: calls `fn(due, *args)`; an awaitable result runs as a
// task started in this work's slot.
struct later_call {
  engine* owner;
  py::object fn;
  py::tuple args;

  void operator()(asp::time_point at) const {
    py::object when = owner->kind().to_datetime(at);
    PyObject* result = call_with_time(fn.ptr(), when.ptr(), args.ptr());
    if (result == nullptr) {
      py::error_already_set error;
      add_note(error, call_later_note("callback", describe(fn), at));
      throw error;
    }
    py::object owned = py::reinterpret_steal<py::object>(result);
    if (result == Py_None || !is_awaitable(result)) return;
    owner->loop().start_in_slot(noted(*owner, std::move(owned), describe(fn), at),
                                typeid(later_call));
  }
};

// asp.call_later(delay, func_or_coroutine, *args): a plain CPython function (vectorcall), as it
// is on the per-event path of programs that schedule from their callbacks.
PyObject* call_later(PyObject*, PyObject* const* argv, Py_ssize_t nargs, PyObject* kwnames) {
  try {
    PyObject* delay = nargs > 0 ? argv[0] : nullptr;
    PyObject* fn = nargs > 1 ? argv[1] : nullptr;
    if (kwnames != nullptr) {
      for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(kwnames); ++i) {
        const std::string key = py::reinterpret_borrow<py::str>(PyTuple_GET_ITEM(kwnames, i));
        if (key == "delay" && delay == nullptr) {
          delay = argv[nargs + i];
        } else if (key == "func_or_coroutine" && fn == nullptr) {
          fn = argv[nargs + i];
        } else {
          throw py::type_error("asp.call_later() got an unexpected keyword argument '" + key + "'");
        }
      }
    }
    if (delay == nullptr || fn == nullptr) {
      throw py::type_error("asp.call_later() takes delay and func_or_coroutine");
    }
    engine& e = engine::require("call_later");
    asp::loop& l = e.loop();
    const asp::time_point due = due_of(l, delay);
    py::object f = py::reinterpret_borrow<py::object>(fn);
    const Py_ssize_t extra = nargs > 2 ? nargs - 2 : 0;
    if (is_awaitable(fn) && !PyCallable_Check(fn)) {
      if (extra != 0) throw py::type_error("asp.call_later: a coroutine object takes no arguments");
      l.call_at(due, [owner = &e, f, what = describe(f)](asp::time_point at) {
        return noted(*owner, f, what, at);
      });
      Py_RETURN_NONE;
    }
    if (!PyCallable_Check(fn)) {
      throw py::type_error(
          "asp.call_later: func_or_coroutine must be callable or a coroutine object, got " +
          std::string(Py_TYPE(fn)->tp_name));
    }
    PyObject* rest = PyTuple_New(extra);
    if (rest == nullptr) throw py::error_already_set();
    py::tuple args = py::reinterpret_steal<py::tuple>(rest);
    for (Py_ssize_t i = 0; i < extra; ++i) {
      Py_INCREF(argv[i + 2]);
      PyTuple_SET_ITEM(rest, i, argv[i + 2]);
    }
    l.call_at(due, later_call{&e, std::move(f), std::move(args)});
    Py_RETURN_NONE;
  } catch (py::builtin_exception& e) {
    e.set_error();
  } catch (py::error_already_set& e) {
    e.restore();
  } catch (const std::exception& e) {
    PyErr_SetString(PyExc_RuntimeError, e.what());
  }
  return nullptr;
}

// asp.sleep(delay) and asp._engine.real_sleep(delay): a new Sleep object.
PyObject* new_sleep(PyObject* delay, bool real) {
  sleep_request s;
  try {
    if (!real && is_datetime(delay)) {
      s.what = sleep_request::kind::absolute;
      s.ns = to_time(delay, "asp.sleep: delay").time_since_epoch().count();
    } else {
      s.what = real ? sleep_request::kind::real : sleep_request::kind::relative;
      s.ns = to_duration(delay, real ? "asp.testing: delay" : "asp.sleep: delay").count();
    }
  } catch (py::builtin_exception& e) {
    e.set_error();
    return nullptr;
  } catch (py::error_already_set& e) {
    e.restore();
    return nullptr;
  }
  auto* o = PyObject_New(sleep_object, sleep_type());
  if (o == nullptr) return nullptr;
  o->request = s;
  return reinterpret_cast<PyObject*>(o);
}

PyObject* sleep_virtual(PyObject*, PyObject* delay) {
  return new_sleep(delay, false);
}

PyObject* sleep_real(PyObject*, PyObject* delay) {
  return new_sleep(delay, true);
}

PyObject* sleep_self(PyObject* self) {
  Py_INCREF(self);
  return self;
}

PyObject* sleep_next(PyObject* self) {
  sleep_request& s = reinterpret_cast<sleep_object*>(self)->request;
  if (s.yielded) return nullptr;  // the end, without an exception: StopIteration(None)
  if (engine::current() == nullptr) {
    PyErr_SetString(PyExc_RuntimeError,
                    "asp.sleep() must be awaited in a coroutine that asp.run runs");
    return nullptr;
  }
  s.yielded = true;
  Py_INCREF(self);
  return self;
}

PyMethodDef g_functions[] = {
    {"sleep", sleep_virtual, METH_O,
     "sleep(delay): awaitable; suspends the calling coroutine on the virtual clock. delay: "
     "seconds, a timedelta, or a datetime (absolute)."},
    {"call_later", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(&call_later)),
     METH_FASTCALL | METH_KEYWORDS,
     "call_later(delay, func_or_coroutine, *args): calls func(due_time, *args) at now + delay "
     "(delay: None, seconds, a timedelta, or a datetime); a coroutine object runs as it is."},
    {"real_sleep", sleep_real, METH_O,
     "real_sleep(delay): awaitable; suspends until the run's real clock has moved by delay."},
    {nullptr, nullptr, 0, nullptr}};

}  // namespace

void asp::python::bind_sleep(py::module_& m) {
  static PyType_Slot slots[] = {
      {Py_am_await, reinterpret_cast<void*>(&sleep_self)},
      {Py_tp_iter, reinterpret_cast<void*>(&sleep_self)},
      {Py_tp_iternext, reinterpret_cast<void*>(&sleep_next)},
      {Py_tp_doc, const_cast<char*>("What asp.sleep returns: await it in a coroutine of the run")},
      {0, nullptr}};
  static PyType_Spec spec = {"asp._engine.Sleep", sizeof(sleep_object), 0, Py_TPFLAGS_DEFAULT,
                             slots};
  PyObject* type = PyType_FromSpec(&spec);
  if (type == nullptr) throw py::error_already_set();
  set_sleep_type(reinterpret_cast<PyTypeObject*>(type));
  m.add_object("Sleep", py::reinterpret_steal<py::object>(type));
  if (PyModule_AddFunctions(m.ptr(), g_functions) != 0) throw py::error_already_set();
}

PYBIND11_MODULE(_engine, m) {
  m.doc() = "ASP's C++ engine: the virtual-clock loop that the asp package runs on";
  m.attr("__version__") = ASP_VERSION;  // the C++ project's (CMakeLists.txt)
  init_datetime();
  // Input that breaks a rule (a file that cannot be read, a malformed row) is a ValueError,
  // as Python's own parsers raise; its message names the file, line and column.
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const asp::input_error& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    }
  });

  py::class_<manual_clock_ref>(m, "ManualClock", R"doc(
A real clock that moves only when told to, for deterministic tests: pass it to
asp.run(..., clock=...). When the engine has nothing due and no asyncio work in flight, it
moves the clock straight to its next deadline instead of waiting; while asyncio work is in
flight, the clock stands still.)doc")
      .def(py::init([](py::handle start) {
             manual_clock_ref ref(to_time(start.ptr(), "ManualClock(start)"));
             return ref;
           }),
           py::arg("start"))
      .def("now_ns",
           [](const manual_clock_ref& c) { return c.clock->now().time_since_epoch().count(); })
      .def("advance",
           [](manual_clock_ref& c, py::handle by) {
             c.clock->advance(to_duration(by.ptr(), "ManualClock.advance"));
           })
      .def("set", [](manual_clock_ref& c,
                     py::handle to) { c.clock->set(to_time(to.ptr(), "ManualClock.set")); })
      .def_property_readonly("advances",
                             [](const manual_clock_ref& c) { return c.clock->advances(); });

  bind_sleep(m);

  auto work_class =
      py::class_<work>(m, "Work", "A stream or timer: pass it to asp.run, or await it")
          .def("__await__", [](py::object self) { return self; })
          .def("__iter__", [](py::object self) { return self; })
          .def("__next__",
               [](py::object self) -> py::object {
                 work& w = self.cast<work&>();
                 if (w.used) {
                   // Ends the await with the value None, as a coroutine without a return.
                   PyErr_SetNone(PyExc_StopIteration);
                   throw py::error_already_set();
                 }
                 if (engine::current() == nullptr) {
                   throw std::runtime_error("asp: " + w.name +
                                            " must be awaited in a coroutine that asp.run runs");
                 }
                 return self;
               })
          .def_property_readonly("name", [](const work& w) { return w.name; })
          .def("__repr__", [](const work& w) { return "<asp work " + w.name + ">"; });

  set_work_type(reinterpret_cast<PyTypeObject*>(work_class.ptr()));

  py::class_<engine>(m, "Engine", "One run's loop (used by asp.run)")
      .def(py::init([](py::object clock) {
             std::optional<manual_clock_ref> manual;
             if (!clock.is_none()) {
               if (!py::isinstance<manual_clock_ref>(clock)) {
                 throw py::type_error("asp.run: clock must be an asp.testing.ManualClock, got " +
                                      std::string(Py_TYPE(clock.ptr())->tp_name));
               }
               manual = clock.cast<manual_clock_ref>();
             }
             return std::make_unique<engine>(manual);
           }),
           py::arg("clock") = py::none())
      .def("set_start",
           [](engine& e, py::handle start) -> std::optional<std::int64_t> {
             if (start.is_none()) return std::nullopt;
             e.set_kind(time_kind::of(start.ptr()));
             return to_time(start.ptr(), "asp.run: start_time").time_since_epoch().count();
           })
      .def("set_rate",
           [](engine& e, std::optional<double> rate) {
             if (rate && !(*rate > 0)) throw py::value_error("asp.run: rate must be positive");
             e.set_rate(rate);
           })
      .def("start", &engine::start)
      .def(
          "poll",
          [](engine& e, std::optional<std::int64_t> start_ns) {
            std::optional<asp::time_point> start;
            if (start_ns) start = asp::time_point{asp::duration{*start_ns}};
            return e.poll(start);
          },
          py::arg("start_ns") = py::none())
      .def("next_deadline", [](engine& e) { return ns_of(e.next_deadline()); })
      .def("wake_handle", &engine::wake_handle)
      .def("skip_to",
           [](engine& e, std::int64_t ns) { return e.skip_to(asp::time_point{asp::duration{ns}}); })
      .def("real_now_ns", [](const engine& e) { return e.real_now().time_since_epoch().count(); })
      .def_property_readonly("manual", &engine::manual)
      .def_property_readonly("in_flight", &engine::in_flight)
      .def_property_readonly("settling", &engine::settling)
      .def("end_settle", &engine::end_settle)
      .def("enter", &engine::enter)
      .def("leave", &engine::leave)
      .def("close", &engine::close);

  bind_native(m);
  bind_streams(m);
  bind_data(m);
  bind_tasks(m);
#ifdef ASP_PYTHON_NATS
  bind_nats(m);
#else
  m.attr("has_nats") = false;
#endif
  bind_io(m);
  bind_arrays(m);

  m.def(
      "now",
      [] {
        engine& e = engine::require("now");
        return e.kind().to_datetime(e.loop().now());
      },
      "The virtual time, as a datetime of the kind of the run's start_time");
  m.def(
      "now_ns", [] { return engine::require("now_ns").loop().now().time_since_epoch().count(); },
      "The virtual time in nanoseconds since the epoch (UTC)");
  m.def(
      "real_now",
      []() -> py::object {
        engine* e = engine::current();
        if (e == nullptr) return py::module_::import("datetime").attr("datetime").attr("now")();
        return e->kind().to_datetime(e->real_now());
      },
      "The run's real clock (a ManualClock's reading in tests), as a datetime");
  m.def("in_run", [] { return engine::current() != nullptr; });
  m.def(
      "bench_call",
      [](py::handle fn, py::handle time, py::handle value, std::int64_t n) {
        // The benchmarks' floor: n calls fn(time, value) from C++, as a stream calls a callback.
        PyObject* args[2] = {time.ptr(), value.ptr()};
        for (std::int64_t i = 0; i < n; ++i) {
          PyObject* r = PyObject_Vectorcall(fn.ptr(), args, 2, nullptr);
          if (r == nullptr) throw py::error_already_set();
          Py_DECREF(r);
        }
      },
      "For benchmarks: calls fn(time, value) n times from C++");
  m.def("to_ns",
        [](py::handle t) { return to_time(t.ptr(), "asp.to_ns").time_since_epoch().count(); });
  m.def(
      "from_ns",
      [](std::int64_t ns, py::handle like) {
        const time_kind kind = time_kind::like(like.ptr());
        return kind.to_datetime(asp::time_point{asp::duration{ns}});
      },
      py::arg("ns"), py::arg("like") = py::none());
}

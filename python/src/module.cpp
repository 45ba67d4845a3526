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
  return asp::detail::saturating_add(l.now(), to_duration(delay.ptr(), "asp.call_later: delay"));
}

// Adds a note naming the callback and its due time to a Python exception raised by it.
[[noreturn]] void rethrow_noted(py::error_already_set& e, const std::string& what,
                                asp::time_point due) {
  add_note(e, "asp: raised in call_later callback '" + what + "' due at " + asp::to_string(due));
  throw std::move(e);
}

asp::task<void> noted(engine& e, py::object coroutine, std::string what, asp::time_point due) {
  try {
    co_await drive(e, std::move(coroutine));
  } catch (py::error_already_set& error) {
    add_note(error,
             "asp: raised in call_later coroutine '" + what + "' due at " + asp::to_string(due));
    throw;
  }
}

void call_later(py::object delay, py::object fn, py::args args) {
  engine& e = engine::require("call_later");
  asp::loop& l = e.loop();
  const asp::time_point due = due_of(l, delay);
  if (is_awaitable(fn.ptr()) && !PyCallable_Check(fn.ptr())) {
    if (args.size() != 0) {
      throw py::type_error("asp.call_later: a coroutine object takes no arguments");
    }
    l.call_at(due, [owner = &e, fn, what = describe(fn)](asp::time_point at) {
      return noted(*owner, fn, what, at);
    });
    return;
  }
  if (!PyCallable_Check(fn.ptr())) {
    throw py::type_error(
        "asp.call_later: func_or_coroutine must be callable or a coroutine "
        "object, got " +
        std::string(Py_TYPE(fn.ptr())->tp_name));
  }
  l.call_at(due, [owner = &e, fn, args = py::tuple(args)](asp::time_point at) -> asp::task<void> {
    py::object when = owner->kind().to_datetime(at);
    const auto n = static_cast<std::size_t>(PyTuple_GET_SIZE(args.ptr()));
    std::vector<PyObject*> argv(n + 1);
    argv[0] = when.ptr();
    for (std::size_t i = 0; i < n; ++i) {
      argv[i + 1] = PyTuple_GET_ITEM(args.ptr(), static_cast<Py_ssize_t>(i));
    }
    PyObject* result = PyObject_Vectorcall(fn.ptr(), argv.data(), n + 1, nullptr);
    if (result == nullptr) {
      py::error_already_set error;
      rethrow_noted(error, describe(fn), at);
    }
    py::object owned = py::reinterpret_steal<py::object>(result);
    if (result == Py_None || !is_awaitable(result)) return {};
    return noted(*owner, std::move(owned), describe(fn), at);
  });
}

sleep_request make_sleep(py::handle delay, bool real) {
  sleep_request s;
  if (!real && is_datetime(delay.ptr())) {
    s.what = sleep_request::kind::absolute;
    s.ns = to_time(delay.ptr(), "asp.sleep: delay").time_since_epoch().count();
  } else {
    s.what = real ? sleep_request::kind::real : sleep_request::kind::relative;
    s.ns = to_duration(delay.ptr(), real ? "asp.testing: delay" : "asp.sleep: delay").count();
  }
  return s;
}

}  // namespace

PYBIND11_MODULE(_engine, m) {
  m.doc() = "ASP's C++ engine: the virtual-clock loop that the asp package runs on";
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

  auto sleep_class = py::class_<sleep_request>(m, "Sleep")
                         .def("__await__", [](py::object self) { return self; })
                         .def("__iter__", [](py::object self) { return self; })
                         .def("__next__", [](py::object self) -> py::object {
                           sleep_request& s = self.cast<sleep_request&>();
                           if (s.yielded) throw py::stop_iteration();
                           if (engine::current() == nullptr) {
                             throw std::runtime_error(
                                 "asp.sleep() must be awaited in a coroutine that asp.run runs");
                           }
                           s.yielded = true;
                           return self;
                         });

  auto work_class =
      py::class_<work>(m, "Work", "A stream or timer: pass it to asp.run, or await it")
          .def("__await__", [](py::object self) { return self; })
          .def("__iter__", [](py::object self) { return self; })
          .def("__next__",
               [](py::object self) -> py::object {
                 work& w = self.cast<work&>();
                 if (w.used) throw py::stop_iteration();
                 if (engine::current() == nullptr) {
                   throw std::runtime_error("asp: " + w.name +
                                            " must be awaited in a coroutine that asp.run runs");
                 }
                 return self;
               })
          .def_property_readonly("name", [](const work& w) { return w.name; })
          .def("__repr__", [](const work& w) { return "<asp work " + w.name + ">"; });

  set_types(reinterpret_cast<PyTypeObject*>(sleep_class.ptr()),
            reinterpret_cast<PyTypeObject*>(work_class.ptr()));

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
      .def("enter", &engine::enter)
      .def("leave", &engine::leave)
      .def("close", &engine::close);

  bind_native(m);
  bind_streams(m);
  bind_data(m);
  bind_io(m);

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
  m.def("call_later", &call_later, py::arg("delay"), py::arg("func_or_coroutine"));
  m.def(
      "sleep", [](py::handle delay) { return make_sleep(delay, false); }, py::arg("delay"));
  m.def(
      "real_sleep", [](py::handle delay) { return make_sleep(delay, true); }, py::arg("delay"));
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

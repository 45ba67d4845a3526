#include "streams.hpp"

#include "native.hpp"

#include <asp/source.hpp>
#include <asp/stream.hpp>
#include <asp/timer.hpp>

#include <pybind11/stl.h>

#include <string>
#include <utility>

namespace asp::python {

namespace {

[[noreturn]] void not_a_pair(PyObject* item, const char* kind, std::uint64_t index,
                             const std::string& stream, const std::string& why) {
  throw py::type_error("asp.process_stream: " + std::string(kind) + " event #" +
                       std::to_string(index) + " of stream '" + stream + "' is " +
                       std::string(py::repr(item)) + ": " + why);
}

// A task that runs `awaitable` to its end, or nothing for a plain result.
task<void> awaited(engine& e, PyObject* result) {
  py::object owned = py::reinterpret_steal<py::object>(result);
  if (result == Py_None || !is_awaitable(result)) return {};
  return drive(e, std::move(owned));
}

// A hook (on_start, on_live_start) that calls a Python callable without arguments.
hook<> python_hook(engine& e, py::object fn) {
  if (fn.is_none()) return {};
  return [owner = &e, fn = std::move(fn)]() -> task<void> {
    PyObject* result = PyObject_CallNoArgs(fn.ptr());
    if (result == nullptr) throw py::error_already_set();
    return awaited(*owner, result);
  };
}

// When the original's timer stops: after the first tick at or after `end` (ticks at start +
// step, start + 2·step, ...); as asp::timer's end, which is exclusive.
time_point timer_end(time_point start, duration step, time_point end) {
  std::int64_t k = 1;
  if (end > start) {
    const auto span = (end - start).count();
    k = span / step.count() + (span % step.count() != 0 ? 1 : 0);  // at least 1
  }
  return saturating_add(saturating_add(start, duration{step.count() * k}), duration{1});
}

}  // namespace

py_event to_event(PyObject* item, const char* kind, std::uint64_t index,
                  const std::string& stream) {
  PyObject* t = nullptr;
  PyObject* v = nullptr;
  // A tuple or a list of two (the items are borrowed from it).
  if ((PyTuple_Check(item) || PyList_Check(item)) && PySequence_Fast_GET_SIZE(item) == 2) {
    t = PySequence_Fast_GET_ITEM(item, 0);
    v = PySequence_Fast_GET_ITEM(item, 1);
  } else {
    not_a_pair(item, kind, index, stream, "not a (datetime, value) pair");
  }
  if (!is_datetime(t)) {
    not_a_pair(item, kind, index, stream,
               std::string("its time is a ") + Py_TYPE(t)->tp_name + ", not a datetime");
  }
  const time_point at = to_time(t, "asp.process_stream: an event's time");
  return py_event{
      at, {py::reinterpret_borrow<py::object>(t), py::reinterpret_borrow<py::object>(v), at}};
}

PyObject* call_with_time(PyObject* fn, PyObject* time, PyObject* rest) {
  const auto n = static_cast<std::size_t>(PyTuple_GET_SIZE(rest));
  PyObject* small[8];
  std::vector<PyObject*> large;
  PyObject** argv = small;
  if (n + 1 > std::size(small)) {
    large.resize(n + 1);
    argv = large.data();
  }
  argv[0] = time;
  for (std::size_t i = 0; i < n; ++i) {
    argv[i + 1] = PyTuple_GET_ITEM(rest, static_cast<Py_ssize_t>(i));
  }
  return PyObject_Vectorcall(fn, argv, n + 1, nullptr);
}

task<void> py_callback::operator()(time_point t, const py_value& v) const {
  py::object built;
  PyObject* time = v.time.ptr();
  if (v.time.is_none() || t != v.at) {
    // No datetime from the source, or an out-of-order event moved to its predecessor's time.
    built = owner->kind().to_datetime(t);
    time = built.ptr();
  }
  PyObject* result = nullptr;
  switch (how) {
    case unpack::none: {
      PyObject* args[2] = {time, v.value.ptr()};
      result = PyObject_Vectorcall(fn.ptr(), args, 2, nullptr);
      break;
    }
    case unpack::args: {
      py::tuple parts = py::reinterpret_steal<py::tuple>(PySequence_Tuple(v.value.ptr()));
      if (!parts) throw py::error_already_set();
      result = call_with_time(fn.ptr(), time, parts.ptr());
      break;
    }
    case unpack::kwargs: {
      py::dict kwargs = py::reinterpret_steal<py::dict>(PyDict_New());
      if (PyDict_Merge(kwargs.ptr(), v.value.ptr(), 1) != 0) throw py::error_already_set();
      py::tuple args = py::make_tuple(py::reinterpret_borrow<py::object>(time));
      result = PyObject_Call(fn.ptr(), args.ptr(), kwargs.ptr());
      break;
    }
  }
  if (result == nullptr) throw py::error_already_set();
  return awaited(*owner, result);
}

py_past::iterator py_past::begin() {
  if (!m_begun) {
    m_begun = true;
    PyObject* it = PyObject_GetIter(m_iterable.ptr());
    if (it == nullptr) throw py::error_already_set();
    m_iterator = py::reinterpret_steal<py::object>(it);
    m_iterable = py::none();
    read();
  }
  return iterator{this};
}

void py_past::read() {
  PyObject* item = PyIter_Next(m_iterator.ptr());
  if (item == nullptr) {
    if (PyErr_Occurred() != nullptr) throw py::error_already_set();
    m_current.reset();
    return;
  }
  py::object owned = py::reinterpret_steal<py::object>(item);
  m_current = to_event(item, "past", m_index++, m_stream);
  if (m_index == 1) m_engine->note_kind(m_current->value.time.ptr());
}

py_future::py_future(engine& e, py::object aiterable, std::string stream)
    : m_engine(&e), m_stream(std::move(stream)) {
  PyAsyncMethods* am = Py_TYPE(aiterable.ptr())->tp_as_async;
  if (am == nullptr || am->am_aiter == nullptr) {
    throw py::type_error("asp.process_stream: future must be an async iterable, got " +
                         std::string(Py_TYPE(aiterable.ptr())->tp_name));
  }
  PyObject* it = am->am_aiter(aiterable.ptr());
  if (it == nullptr) throw py::error_already_set();
  m_iterator = py::reinterpret_steal<py::object>(it);
}

task<std::optional<py_event>> py_future::next() {
  if (m_done) co_return std::nullopt;
  PyAsyncMethods* am = Py_TYPE(m_iterator.ptr())->tp_as_async;
  PyObject* step = (am != nullptr && am->am_anext != nullptr)
                       ? am->am_anext(m_iterator.ptr())
                       : PyObject_CallMethod(m_iterator.ptr(), "__anext__", nullptr);
  if (step == nullptr) throw py::error_already_set();
  py::object item;
  try {
    co_await drive(*m_engine, py::reinterpret_steal<py::object>(step), &item);
  } catch (py::error_already_set& e) {
    if (!e.matches(PyExc_StopAsyncIteration)) throw;
    m_done = true;
  }
  if (m_done) {
    m_iterator = py::none();
    co_return std::nullopt;
  }
  py_event e = to_event(item.ptr(), "live", m_index++, m_stream);
  m_engine->note_kind(e.value.time.ptr());
  // Due at its arrival, the real clock's reading now (contract C6): a live event cannot
  // come before the past that replays, whatever time it carries. The callback still receives
  // the event's own datetime.
  const time_point arrival = m_engine->loop().clock().now();
  e.time = arrival;
  e.value.at = arrival;
  co_return e;
}

namespace {

// What a stream needs when it starts (the engine that starts it is known only then).
struct description {
  py::object callback, past, future, on_start, on_live_start;
  unpack how;
  stream_options options;
};

stream_handle start_stream(description& d, engine& owner) {
  engine* e = &owner;
  loop& l = owner.loop();
  stream_options options = std::move(d.options);
  options.on_start = python_hook(*e, d.on_start);
  options.on_live_start = python_hook(*e, d.on_live_start);
  py_callback callback{e, d.callback, d.how};
  using past_t = any_past_source<py_event>;
  std::optional<past_t> past;
  if (is_native_past(d.past)) {
    past.emplace(take_native_past(d.past, *e));
  } else if (!d.past.is_none()) {
    past.emplace(py_past(*e, d.past, options.name));
  }
  std::optional<any_live_source<py_event>> future;
  if (is_native_future(d.future)) {
    future.emplace(take_native_future(d.future, l));
  } else if (is_nats_live(d.future)) {
    future.emplace(take_nats_live(d.future, l));
  } else if (!d.future.is_none()) {
    future.emplace(py_future(*e, d.future, options.name));
  }
  if (past && future) {
    return asp::start(l, process_stream(std::move(callback), std::move(*past), std::move(*future),
                                        std::move(options)));
  }
  if (past) {
    return asp::start(
        l, process_stream(std::move(callback), std::move(*past), none, std::move(options)));
  }
  if (future) {
    return asp::start(
        l, process_stream(std::move(callback), none, std::move(*future), std::move(options)));
  }
  return asp::start(l, process_stream(std::move(callback), none, none, std::move(options)));
}

work stream_work(py::object callback, py::object past, py::object future, py::object on_start,
                 py::object on_live_start, bool unpack_args, bool unpack_kwargs,
                 std::optional<std::string> name, const std::string& order) {
  if (!PyCallable_Check(callback.ptr())) {
    throw py::type_error("asp.process_stream: callback must be callable, got " +
                         std::string(Py_TYPE(callback.ptr())->tp_name));
  }
  for (auto [hook_name, fn] :
       {std::pair{"on_start", &on_start}, std::pair{"on_live_start", &on_live_start}}) {
    if (!fn->is_none() && !PyCallable_Check(fn->ptr())) {
      throw py::type_error(std::string("asp.process_stream: ") + hook_name +
                           " must be callable or None, got " + Py_TYPE(fn->ptr())->tp_name);
    }
  }
  if (unpack_args && unpack_kwargs) {
    throw py::value_error("asp.process_stream: unpack_args and unpack_kwargs exclude each other");
  }
  stream_options options;
  options.name = name ? *name : describe(callback);
  if (order == "fail") {
    options.order = out_of_order::fail;
  } else if (order == "clamp") {
    options.order = out_of_order::clamp;
  } else if (order == "skip") {
    options.order = out_of_order::skip;
  } else {
    throw py::value_error(
        "asp.process_stream: out_of_order must be 'fail', 'clamp' or 'skip', "
        "not '" +
        order + "'");
  }
  const unpack how = unpack_args ? unpack::args : unpack_kwargs ? unpack::kwargs : unpack::none;
  const std::string stream = options.name;
  auto d = std::make_shared<description>(
      description{std::move(callback), std::move(past), std::move(future), std::move(on_start),
                  std::move(on_live_start), how, std::move(options)});
  // Validate the sources now, so that a wrong argument fails at the call, not in the run.
  const bool native = is_native_past(d->past);
  if (!d->past.is_none() && !native && !py::hasattr(d->past, "__iter__")) {
    throw py::type_error(
        "asp.process_stream: past must be an iterable of (datetime, value) "
        "pairs, got " +
        std::string(Py_TYPE(d->past.ptr())->tp_name));
  }
  if (!d->future.is_none() && !is_native_future(d->future) && !is_nats_live(d->future) &&
      !py::hasattr(d->future, "__aiter__")) {
    throw py::type_error(
        "asp.process_stream: future must be an async iterable of (datetime, "
        "value) pairs, got " +
        std::string(Py_TYPE(d->future.ptr())->tp_name));
  }
  return work{"stream '" + stream + "'", [d](engine& e) { return start_stream(*d, e); }};
}

work timer_work(py::object step, py::object callback, py::object start_time, py::object end_time,
                bool with_time) {
  const duration interval = to_duration(step.ptr(), "asp.timer: step");
  if (interval <= duration::zero()) {
    throw py::value_error("asp.timer: step must be positive");
  }
  if (!PyCallable_Check(callback.ptr())) {
    throw py::type_error("asp.timer: callback must be callable, got " +
                         std::string(Py_TYPE(callback.ptr())->tp_name));
  }
  const time_point start = to_time(start_time.ptr(), "asp.timer: start_time");
  std::optional<time_point> end;
  if (!end_time.is_none()) {
    const time_point last =
        is_datetime(end_time.ptr())
            ? to_time(end_time.ptr(), "asp.timer: end_time")
            : saturating_add(start, to_duration(end_time.ptr(), "asp.timer: end_time"));
    end = timer_end(start, interval, last);
  }
  const time_kind kind = time_kind::of(start_time.ptr());
  std::string name = "timer '" + describe(callback) + "'";
  return work{name, [=](engine& owner) -> stream_handle {
                engine* e = &owner;
                e->note_kind(start_time.ptr());
                auto tick = [e, callback, kind, with_time](time_point t) -> task<void> {
                  PyObject* result = nullptr;
                  if (with_time) {
                    py::object at = kind.to_datetime(t);
                    PyObject* args[1] = {at.ptr()};
                    result = PyObject_Vectorcall(callback.ptr(), args, 1, nullptr);
                  } else {
                    result = PyObject_CallNoArgs(callback.ptr());
                  }
                  if (result == nullptr) throw py::error_already_set();
                  return awaited(*e, result);
                };
                timer_options options;
                options.start = saturating_add(start, interval);
                options.end = end;
                auto handle =
                    spawn(e->loop(), asp::timer(interval, std::move(tick), options), name);
                return stream_handle(std::move(handle), std::make_shared<stream_stats>());
              }};
}

}  // namespace

void bind_streams(py::module_& m) {
  m.def("process_stream", &stream_work, py::arg("callback"), py::arg("past") = py::none(),
        py::arg("future") = py::none(), py::arg("on_start") = py::none(),
        py::arg("on_live_start") = py::none(), py::arg("unpack_args") = false,
        py::arg("unpack_kwargs") = false, py::kw_only(), py::arg("name") = py::none(),
        py::arg("out_of_order") = "fail");
  m.def("timer", &timer_work, py::arg("step"), py::arg("callback"), py::arg("start_time"),
        py::arg("end_time") = py::none(), py::arg("with_time") = true);
}

}  // namespace asp::python

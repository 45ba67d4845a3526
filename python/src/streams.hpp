#pragma once

// Events as Python sees them, and the adaptors that make Python iterables and async iterables
// sources of ASP streams.

#include "engine.hpp"

#include <asp/event.hpp>
#include <asp/pull_iterator.hpp>

#include <iterator>
#include <optional>
#include <string>

namespace asp::python {

/// A stream event's value on its way to Python: the event's time as the datetime the source
/// gave (handed to the callback as it is, so no datetime is built per event), or none when
/// the source has none (then one is built in the run's kind), and the value.
struct py_value {
  py::object time;
  py::object value;
  time_point at{};  ///< `time` as a time_point
};
using py_event = event<py_value>;

/// How a stream's callback receives the value: `f(t, v)`, `f(t, *v)`, `f(t, **v)`.
enum class unpack { none, args, kwargs };

/// The stream callback: calls the Python callable with the event's time and value; a result
/// that is awaitable (an `async def` callback) is driven to its end before the stream's next
/// event.
struct py_callback {
  engine* owner;
  py::object fn;
  unpack how = unpack::none;

  task<void> operator()(time_point t, const py_value& v) const;
};

/// The iterator of a single-pass range of py_events that holds its own position (see
/// asp::pull_iterator).
template <class Owner>
using pull_iterator = asp::pull_iterator<Owner, py_event>;

/// Calls `fn(time, *rest)` by vectorcall, `rest` being a tuple: a new reference, or nullptr
/// with the Python error set.
PyObject* call_with_time(PyObject* fn, PyObject* time, PyObject* rest);

/// A past source over any Python iterable of `(datetime, value)` pairs: an input range that
/// reads one item ahead at most. Raises TypeError naming the stream and the index for an item
/// that is not such a pair.
class py_past {
 public:
  using iterator = pull_iterator<py_past>;

  py_past(engine& e, py::object iterable, std::string stream)
      : m_engine(&e), m_iterable(std::move(iterable)), m_stream(std::move(stream)) {}
  py_past(py_past&&) noexcept = default;
  py_past& operator=(py_past&&) noexcept = default;

  iterator begin();
  std::default_sentinel_t end() const noexcept { return {}; }
  bool at_end() const noexcept { return !m_current; }
  const py_event& current() const noexcept { return *m_current; }
  void advance() { read(); }

 private:
  void read();

  engine* m_engine;
  py::object m_iterable;
  py::object m_iterator;
  std::string m_stream;
  std::optional<py_event> m_current;
  std::uint64_t m_index = 0;
  bool m_begun = false;
};

/// A live source over a Python async iterable of `(datetime, value)` pairs: each `__anext__`
/// is driven by the engine (so it may await asyncio), and the event is due at its arrival —
/// the real clock's reading when `__anext__` returned it — while the callback receives the
/// event's own datetime.
class py_future {
 public:
  py_future(engine& e, py::object aiterable, std::string stream);
  task<std::optional<py_event>> next();

 private:
  engine* m_engine;
  py::object m_iterator;
  std::string m_stream;
  std::uint64_t m_index = 0;
  bool m_done = false;
};

/// Reads a `(datetime, value)` pair; raises TypeError with `where` (e.g. "past event #3 of
/// stream 'f'") when `item` is not one.
py_event to_event(PyObject* item, const char* kind, std::uint64_t index, const std::string& stream);

}  // namespace asp::python

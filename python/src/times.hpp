#pragma once

// Python's datetime and timedelta to and from ASP's nanosecond time_point and duration.
//
// Inside the engine every time is a time_point: nanoseconds since the epoch, UTC. At the
// border:
// - an aware datetime is the instant it denotes (its utcoffset()).
// - a naive datetime is local time, as in the original, converted exactly as Python's own
//   datetime.timestamp() and datetime.fromtimestamp() do it — DST included: an ambiguous wall
//   time (the repeated hour in autumn) is its first occurrence unless `fold=1`, and a wall
//   time in the spring gap is read with the offset from before the gap. The offsets are cached
//   per hour, and an hour in which the offset changes is never cached, so the cache changes
//   no answer.
// - datetimes carry microseconds: a time_point shown as a datetime is rounded down to the
//   microsecond (the engine keeps the nanoseconds).

#include <asp/time.hpp>

#include <pybind11/pybind11.h>

#include <cstdint>
#include <optional>
#include <string_view>
#include <unordered_map>

namespace asp::python {

namespace py = pybind11;

/// Imports the datetime C API; call once when the module loads.
void init_datetime();

/// Whether `o` is a datetime.datetime.
bool is_datetime(PyObject* o) noexcept;

/// The instant of a datetime (see the file comment). Throws py::type_error naming `what` when
/// `o` is not a datetime.
time_point to_time(PyObject* o, std::string_view what);

/// A naive local wall time in nanoseconds (a numpy datetime64 without a zone) as the instant
/// it names, by the rules of a naive datetime (the earlier of an ambiguous hour).
time_point from_local_wall(std::int64_t wall_ns);

/// A duration from a timedelta or a number of seconds (int or float; a float is rounded to the
/// nearest nanosecond). Throws py::type_error naming `what` otherwise.
duration to_duration(PyObject* o, std::string_view what);

/// A timedelta (microseconds, rounded down).
py::object to_timedelta(duration d);

/// How times are shown to Python: naive local datetimes, or aware ones in a given tzinfo —
/// the kind of the run's start_time.
class time_kind {
 public:
  /// Naive local time.
  time_kind() = default;
  /// The kind of `dt`: its tzinfo, or naive.
  static time_kind of(PyObject* dt);
  /// The kind that `like` shows: a datetime's, a tzinfo, or naive for None. Throws
  /// py::type_error for anything else.
  static time_kind like(PyObject* like);

  /// `t` as a datetime of this kind.
  py::object to_datetime(time_point t) const;

  bool naive() const noexcept { return m_tz.is_none(); }

 private:
  py::object m_tz = py::none();
};

}  // namespace asp::python

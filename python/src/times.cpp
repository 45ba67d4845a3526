#include "times.hpp"

#include <datetime.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>
#include <string>
#include <unordered_map>

namespace asp::python {

namespace {

using namespace std::chrono;

constexpr std::int64_t ns_per_s = 1'000'000'000;

std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// Wall-clock fields <-> seconds since 1970-01-01T00:00 of the same calendar (no zone).
struct fields {
  int year, month, day, hour, minute, second;
};

std::int64_t wall_seconds(int y, int mo, int d, int h, int mi, int s) noexcept {
  const sys_days days{year{y} / month{static_cast<unsigned>(mo)} / day{static_cast<unsigned>(d)}};
  return std::int64_t{days.time_since_epoch().count()} * 86400 + h * 3600 + mi * 60 + s;
}

fields civil(std::int64_t wall_s) noexcept {
  const std::int64_t days = floor_div(wall_s, 86400);
  const auto in_day = static_cast<int>(wall_s - days * 86400);
  const year_month_day ymd{sys_days{std::chrono::days{days}}};
  return {int(ymd.year()),
          static_cast<int>(unsigned(ymd.month())),
          static_cast<int>(unsigned(ymd.day())),
          in_day / 3600,
          in_day / 60 % 60,
          in_day % 60};
}

py::object naive_datetime(std::int64_t wall_s, int microsecond, int fold) {
  const fields f = civil(wall_s);
  if (f.year < 1 || f.year > 9999) {
    throw py::value_error("asp: the time " + std::to_string(f.year) +
                          "-… is outside the years a datetime can show (1 to 9999)");
  }
  PyObject* dt = PyDateTimeAPI->DateTime_FromDateAndTimeAndFold(
      f.year, f.month, f.day, f.hour, f.minute, f.second, microsecond, Py_None, fold,
      PyDateTimeAPI->DateTimeType);
  if (dt == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(dt);
}

std::int64_t seconds_of_timestamp(PyObject* dt) {
  py::object ts = py::reinterpret_borrow<py::object>(dt).attr("timestamp")();
  return static_cast<std::int64_t>(std::llround(ts.cast<double>()));
}

// Naive local wall time -> UTC offset, per (wall hour, fold); as datetime.timestamp() does it.
struct local_to_utc_cache {
  std::unordered_map<std::int64_t, std::int64_t> offsets;  // key: hour * 2 + fold
  std::int64_t offset(std::int64_t wall_s, int fold) {
    const std::int64_t hour = floor_div(wall_s, 3600);
    const std::int64_t key = hour * 2 + fold;
    if (auto it = offsets.find(key); it != offsets.end()) return it->second;
    auto offset_at = [&](std::int64_t w) {
      py::object dt = naive_datetime(w, 0, fold);
      return w - seconds_of_timestamp(dt.ptr());
    };
    const std::int64_t mine = offset_at(wall_s);
    // Cache only an hour that has one offset from its first second to its last.
    if (offset_at(hour * 3600) == mine && offset_at(hour * 3600 + 3599) == mine) {
      offsets.emplace(key, mine);
    }
    return mine;
  }
};

// UTC -> naive local wall time, per UTC hour; as datetime.fromtimestamp() does it.
struct utc_to_local_cache {
  struct entry {
    std::int64_t offset;
    int fold;
  };
  std::unordered_map<std::int64_t, entry> entries;
  entry at(std::int64_t utc_s) {
    const std::int64_t hour = floor_div(utc_s, 3600);
    if (auto it = entries.find(hour); it != entries.end()) return it->second;
    auto local_at = [](std::int64_t s) {
      py::object dt = py::reinterpret_borrow<py::object>(
                          reinterpret_cast<PyObject*>(PyDateTimeAPI->DateTimeType))
                          .attr("fromtimestamp")(s);
      PyObject* p = dt.ptr();
      const std::int64_t wall =
          wall_seconds(PyDateTime_GET_YEAR(p), PyDateTime_GET_MONTH(p), PyDateTime_GET_DAY(p),
                       PyDateTime_DATE_GET_HOUR(p), PyDateTime_DATE_GET_MINUTE(p),
                       PyDateTime_DATE_GET_SECOND(p));
      return entry{wall - s, PyDateTime_DATE_GET_FOLD(p)};
    };
    const entry mine = local_at(utc_s);
    const entry first = local_at(hour * 3600);
    const entry last = local_at(hour * 3600 + 3599);
    if (first.offset == mine.offset && last.offset == mine.offset && first.fold == mine.fold &&
        last.fold == mine.fold) {
      entries.emplace(hour, mine);
    }
    return mine;
  }
};

local_to_utc_cache g_to_utc;
utc_to_local_cache g_to_local;

// The local zone the caches were filled in: a program (or a test) that changes TZ and calls
// time.tzset() changes what C's tzset leaves in tzname and timezone, and the caches start
// again.
struct zone_stamp {
  std::string names[2];
  long offset = 0;
  int daylight = 0;
  bool operator==(const zone_stamp&) const = default;

  static zone_stamp now() {
    return {{tzname[0] != nullptr ? tzname[0] : "", tzname[1] != nullptr ? tzname[1] : ""},
            ::timezone,
            ::daylight};
  }
};
zone_stamp g_zone = zone_stamp::now();

void check_zone() {
  if (std::strcmp(g_zone.names[0].c_str(), tzname[0] != nullptr ? tzname[0] : "") == 0 &&
      std::strcmp(g_zone.names[1].c_str(), tzname[1] != nullptr ? tzname[1] : "") == 0 &&
      g_zone.offset == ::timezone && g_zone.daylight == ::daylight) {
    return;
  }
  g_zone = zone_stamp::now();
  g_to_utc.offsets.clear();
  g_to_local.entries.clear();
}

// One fixed-offset tzinfo seen last (datetime.timezone): its offset in microseconds.
PyObject* g_last_fixed_tz = nullptr;
std::int64_t g_last_fixed_offset_us = 0;

std::int64_t delta_microseconds(PyObject* delta) {
  return std::int64_t{PyDateTime_DELTA_GET_DAYS(delta)} * 86'400'000'000 +
         std::int64_t{PyDateTime_DELTA_GET_SECONDS(delta)} * 1'000'000 +
         PyDateTime_DELTA_GET_MICROSECONDS(delta);
}

bool is_fixed_timezone(PyObject* tz) noexcept {
  return Py_TYPE(tz) == Py_TYPE(PyDateTime_TimeZone_UTC);
}

std::int64_t utcoffset_us(PyObject* dt, PyObject* tz) {
  if (tz == PyDateTime_TimeZone_UTC) return 0;
  if (tz == g_last_fixed_tz) return g_last_fixed_offset_us;
  py::object offset = py::reinterpret_borrow<py::object>(dt).attr("utcoffset")();
  if (!PyDelta_Check(offset.ptr())) {
    throw py::value_error("asp: a datetime whose tzinfo gives no utcoffset()");
  }
  const std::int64_t us = delta_microseconds(offset.ptr());
  if (is_fixed_timezone(tz)) {
    // datetime.timezone objects are immutable; remember the last one (a new reference keeps
    // the address from being reused by another object).
    Py_XDECREF(g_last_fixed_tz);
    Py_INCREF(tz);
    g_last_fixed_tz = tz;
    g_last_fixed_offset_us = us;
  }
  return us;
}

[[noreturn]] void out_of_range(std::string_view what) {
  throw py::value_error(std::string(what) +
                        ": the time is outside the range of ASP's nanosecond clock "
                        "(1677-09-21 to 2262-04-11)");
}

}  // namespace

void init_datetime() {
  PyDateTime_IMPORT;
  if (PyDateTimeAPI == nullptr) throw py::error_already_set();
}

bool is_datetime(PyObject* o) noexcept {
  return PyDateTime_Check(o);
}

time_point to_time(PyObject* o, std::string_view what) {
  if (!PyDateTime_Check(o)) {
    throw py::type_error(std::string(what) + ": expected a datetime, got " + Py_TYPE(o)->tp_name);
  }
  const std::int64_t wall_s = wall_seconds(
      PyDateTime_GET_YEAR(o), PyDateTime_GET_MONTH(o), PyDateTime_GET_DAY(o),
      PyDateTime_DATE_GET_HOUR(o), PyDateTime_DATE_GET_MINUTE(o), PyDateTime_DATE_GET_SECOND(o));
  std::int64_t offset_us = 0;
  PyObject* tz = PyDateTime_DATE_GET_TZINFO(o);
  if (tz == Py_None) {
    check_zone();
    offset_us = g_to_utc.offset(wall_s, PyDateTime_DATE_GET_FOLD(o)) * 1'000'000;
  } else {
    offset_us = utcoffset_us(o, tz);
  }
  std::int64_t us = 0;
  std::int64_t ns = 0;
  if (__builtin_mul_overflow(wall_s, std::int64_t{1'000'000}, &us) ||
      __builtin_add_overflow(us, std::int64_t{PyDateTime_DATE_GET_MICROSECOND(o)} - offset_us,
                             &us) ||
      __builtin_mul_overflow(us, std::int64_t{1000}, &ns)) {
    out_of_range(what);
  }
  return time_point{duration{ns}};
}

time_point from_local_wall(std::int64_t wall_ns) {
  const std::int64_t wall_s = floor_div(wall_ns, 1'000'000'000);
  check_zone();
  return time_point{duration{wall_ns - g_to_utc.offset(wall_s, 0) * 1'000'000'000}};
}

duration to_duration(PyObject* o, std::string_view what) {
  std::int64_t ns = 0;
  if (PyDelta_Check(o)) {
    if (__builtin_mul_overflow(delta_microseconds(o), std::int64_t{1000}, &ns)) {
      throw py::value_error(std::string(what) + ": the timedelta is too large (±292 years)");
    }
    return duration{ns};
  }
  if (PyLong_Check(o) && !PyBool_Check(o)) {
    int overflow = 0;
    const long long s = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (overflow != 0 || __builtin_mul_overflow(std::int64_t{s}, ns_per_s, &ns)) {
      throw py::value_error(std::string(what) + ": the number of seconds is too large");
    }
    return duration{ns};
  }
  if (PyFloat_Check(o)) {
    const double s = PyFloat_AS_DOUBLE(o);
    if (!std::isfinite(s) || std::fabs(s) >= 9.2e9) {
      throw py::value_error(std::string(what) + ": " + std::to_string(s) +
                            " seconds is not a finite duration ASP can hold (±292 years)");
    }
    return duration{std::llround(s * 1e9)};
  }
  throw py::type_error(std::string(what) + ": expected a timedelta or a number of seconds, got " +
                       Py_TYPE(o)->tp_name);
}

py::object to_timedelta(duration d) {
  const std::int64_t us = floor_div(d.count(), 1000);
  const std::int64_t days = floor_div(us, 86'400'000'000);
  const std::int64_t rest = us - days * 86'400'000'000;
  PyObject* delta = PyDelta_FromDSU(static_cast<int>(days), static_cast<int>(rest / 1'000'000),
                                    static_cast<int>(rest % 1'000'000));
  if (delta == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(delta);
}

time_kind time_kind::of(PyObject* dt) {
  time_kind kind;
  PyObject* tz = PyDateTime_DATE_GET_TZINFO(dt);
  if (tz != Py_None) kind.m_tz = py::reinterpret_borrow<py::object>(tz);
  return kind;
}

time_kind time_kind::like(PyObject* like) {
  if (like == Py_None) return {};
  if (PyDateTime_Check(like)) return of(like);
  if (PyTZInfo_Check(like)) {
    time_kind kind;
    kind.m_tz = py::reinterpret_borrow<py::object>(like);
    return kind;
  }
  throw py::type_error(std::string("asp: expected a datetime, a tzinfo or None, got ") +
                       Py_TYPE(like)->tp_name);
}

py::object time_kind::to_datetime(time_point t) const {
  const std::int64_t ns = t.time_since_epoch().count();
  const std::int64_t utc_s = floor_div(ns, ns_per_s);
  const auto microsecond = static_cast<int>((ns - utc_s * ns_per_s) / 1000);
  if (m_tz.is_none()) {
    check_zone();
    const auto local = g_to_local.at(utc_s);
    return naive_datetime(utc_s + local.offset, microsecond, local.fold);
  }
  PyObject* tz = m_tz.ptr();
  const fields f = civil(utc_s);
  PyObject* utc =
      PyDateTimeAPI->DateTime_FromDateAndTime(f.year, f.month, f.day, f.hour, f.minute, f.second,
                                              microsecond, tz, PyDateTimeAPI->DateTimeType);
  if (utc == nullptr) throw py::error_already_set();
  py::object as_utc = py::reinterpret_steal<py::object>(utc);
  if (tz == PyDateTime_TimeZone_UTC) return as_utc;
  // tzinfo.fromutc takes the UTC fields with tzinfo=tz and returns the local time in tz.
  return m_tz.attr("fromutc")(as_utc);
}

}  // namespace asp::python

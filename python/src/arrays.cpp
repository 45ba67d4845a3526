// Arrays as a past source (asp.data.from_arrays, and from_frame over it): a column of times and
// value columns, read through the buffer protocol without a copy; a row's values become Python
// scalars only when the row is delivered. The source keeps the arrays alive for the run.

#include "native.hpp"
#include "times.hpp"

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace asp::python {

namespace {

// One value column: its bytes and how to read an element.
struct column {
  py::buffer_info info;
  enum class kind { f64, f32, i64, i32, i16, i8, u64, u32, u16, u8, boolean } what;
  const char* data;
  py::ssize_t stride;

  PyObject* at(py::ssize_t i) const {
    const char* p = data + i * stride;
    auto get = [p](auto v) {
      std::memcpy(&v, p, sizeof v);
      return v;
    };
    switch (what) {
      case kind::f64:
        return PyFloat_FromDouble(get(double{}));
      case kind::f32:
        return PyFloat_FromDouble(static_cast<double>(get(float{})));
      case kind::i64:
        return PyLong_FromLongLong(get(std::int64_t{}));
      case kind::i32:
        return PyLong_FromLong(get(std::int32_t{}));
      case kind::i16:
        return PyLong_FromLong(get(std::int16_t{}));
      case kind::i8:
        return PyLong_FromLong(get(std::int8_t{}));
      case kind::u64:
        return PyLong_FromUnsignedLongLong(get(std::uint64_t{}));
      case kind::u32:
        return PyLong_FromUnsignedLong(get(std::uint32_t{}));
      case kind::u16:
        return PyLong_FromLong(get(std::uint16_t{}));
      case kind::u8:
        return PyLong_FromLong(get(std::uint8_t{}));
      case kind::boolean:
        return PyBool_FromLong(get(std::uint8_t{}) != 0 ? 1 : 0);
    }
    return nullptr;
  }
};

// The kind of a buffer's elements from its struct format ("<d", "=q", "?", ...).
column::kind kind_of(const py::buffer_info& info, std::size_t index) {
  std::string f = info.format;
  if (!f.empty() && (f[0] == '<' || f[0] == '=' || f[0] == '@' || f[0] == '!' || f[0] == '>')) {
    f.erase(0, 1);
  }
  const auto size = info.itemsize;
  using k = column::kind;
  if (f == "d" && size == 8) return k::f64;
  if (f == "f" && size == 4) return k::f32;
  if (f == "?" && size == 1) return k::boolean;
  if ((f == "q" || f == "l") && size == 8) return k::i64;
  if ((f == "i" || f == "l") && size == 4) return k::i32;
  if (f == "h" && size == 2) return k::i16;
  if (f == "b" && size == 1) return k::i8;
  if ((f == "Q" || f == "L") && size == 8) return k::u64;
  if ((f == "I" || f == "L") && size == 4) return k::u32;
  if (f == "H" && size == 2) return k::u16;
  if (f == "B" && size == 1) return k::u8;
  throw py::type_error("asp.data.from_arrays: column " + std::to_string(index) +
                       " holds elements of format '" + info.format +
                       "'; columns must be integers, floats or booleans");
}

// The rows: times (int64 nanoseconds: UTC, or local wall times) and the columns.
class array_rows {
 public:
  using iterator = pull_iterator<array_rows>;

  array_rows(std::vector<py::object> keep, py::buffer_info times, std::vector<column> columns,
             bool local)
      : m_keep(std::move(keep)),
        m_times(std::move(times)),
        m_columns(std::move(columns)),
        m_local(local) {
    m_n = m_times.shape[0];
  }

  iterator begin() {
    if (!m_begun) {
      m_begun = true;
      load();
    }
    return iterator{this};
  }
  std::default_sentinel_t end() const noexcept { return {}; }
  bool at_end() const { return m_i >= m_n; }
  const py_event& current() const noexcept { return m_current; }
  void advance() {
    ++m_i;
    load();
  }

 private:
  void load() {
    if (m_i >= m_n) return;
    std::int64_t ns = 0;
    std::memcpy(&ns, static_cast<const char*>(m_times.ptr) + m_i * m_times.strides[0], 8);
    const time_point t = m_local ? from_local_wall(ns) : time_point{duration{ns}};
    py::tuple row(m_columns.size());
    for (std::size_t c = 0; c < m_columns.size(); ++c) {
      PyObject* item = m_columns[c].at(m_i);
      if (item == nullptr) throw py::error_already_set();
      PyTuple_SET_ITEM(row.ptr(), static_cast<py::ssize_t>(c), item);
    }
    m_current = py_event{t, {py::none(), std::move(row), t}};
  }

  std::vector<py::object> m_keep;  // the arrays, alive while the source is
  py::buffer_info m_times;
  std::vector<column> m_columns;
  bool m_local;
  py::ssize_t m_n = 0;
  py::ssize_t m_i = 0;
  py_event m_current{};
  bool m_begun = false;
};

// times: int64 nanoseconds (a datetime64[ns] array viewed as int64, checked and sorted by the
// Python side); columns: one-dimensional buffers of the same length.
native_past from_arrays(py::buffer times, const py::list& columns, bool local, std::string what) {
  std::vector<py::object> keep{times};
  py::buffer_info t = times.request();
  if (t.ndim != 1 || t.itemsize != 8) {
    throw py::type_error("asp.data.from_arrays: times must be one-dimensional int64 nanoseconds");
  }
  std::vector<column> cols;
  for (std::size_t i = 0; i < columns.size(); ++i) {
    py::object o = columns[i];
    if (!PyObject_CheckBuffer(o.ptr())) {
      throw py::type_error("asp.data.from_arrays: column " + std::to_string(i) + " (" +
                           Py_TYPE(o.ptr())->tp_name + ") is not an array");
    }
    py::buffer_info info = py::reinterpret_borrow<py::buffer>(o).request();
    if (info.ndim != 1) {
      throw py::value_error("asp.data.from_arrays: column " + std::to_string(i) + " has " +
                            std::to_string(info.ndim) + " dimensions, not 1");
    }
    if (info.shape[0] != t.shape[0]) {
      throw py::value_error("asp.data.from_arrays: column " + std::to_string(i) + " has " +
                            std::to_string(info.shape[0]) + " rows, the times " +
                            std::to_string(t.shape[0]));
    }
    const column::kind k = kind_of(info, i);
    const char* data = static_cast<const char*>(info.ptr);
    const py::ssize_t stride = info.strides[0];
    cols.push_back(column{std::move(info), k, data, stride});
    keep.push_back(std::move(o));
  }
  auto rows = std::make_shared<array_rows>(std::move(keep), std::move(t), std::move(cols), local);
  return native_past{std::move(what),
                     [rows](engine&) { return any_past_source<py_event>(std::move(*rows)); }};
}

}  // namespace

void bind_arrays(py::module_& m) {
  m.def("from_arrays", &from_arrays, py::arg("times"), py::arg("columns"), py::arg("local"),
        py::arg("what"));
}

}  // namespace asp::python

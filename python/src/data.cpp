// The data sources from Python: a CSV file and a stream of a record log, read natively (C++
// parsing, no Python iterator per event); each event's value becomes a Python tuple of the
// row's typed fields.

#include "native.hpp"

#include <asp/data/log.hpp>
#include <asp/data/table.hpp>
#include <asp/data/time_text.hpp>
#include <asp/error.hpp>

#include <pybind11/stl.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace asp::python {

namespace {

PyTypeObject* g_native_type = nullptr;

// A row payload (asp::data::encode_row's layout) as a tuple of int, float, bool and str.
py::object decode(const data::table_schema& schema, std::string_view payload,
                  const std::string& where) {
  py::tuple row(schema.columns.size());
  try {
    data::visit_row(schema, payload, [&](std::size_t i, auto value) {
      using V = decltype(value);
      PyObject* item = nullptr;
      if constexpr (std::is_same_v<V, std::int64_t>) {
        item = PyLong_FromLongLong(value);
      } else if constexpr (std::is_same_v<V, double>) {
        item = PyFloat_FromDouble(value);
      } else if constexpr (std::is_same_v<V, bool>) {
        item = PyBool_FromLong(value ? 1 : 0);
      } else {
        item = PyUnicode_DecodeUTF8(value.data(), static_cast<Py_ssize_t>(value.size()), "replace");
      }
      if (item == nullptr) throw py::error_already_set();
      PyTuple_SET_ITEM(row.ptr(), static_cast<Py_ssize_t>(i), item);
    });
  } catch (const input_error& e) {
    throw py::value_error(where + ": " + e.what() + " (" + schema.to_string() + ")");
  }
  return row;
}

// The table schema of a log's stream, or none for a stream of raw payloads.
std::optional<data::table_schema> schema_of(const std::string& path, const data::log_stream& s) {
  try {
    return data::table_schema::parse(s.schema);
  } catch (const std::invalid_argument& e) {
    throw input_error(path + ": stream '" + s.name + "': " + e.what());
  }
}

// A stream's value: a table row as a tuple, another payload as bytes.
py::object value_of(const std::optional<data::table_schema>& table, std::string_view payload,
                    const std::string& path) {
  if (table) return decode(*table, payload, path);
  return py::bytes(payload.data(), payload.size());
}

data::time_format time_format_of(const std::string& name) {
  if (const std::optional<data::time_format> f = data::time_format_named(name)) return *f;
  throw py::value_error("asp.data: times must be 'iso8601', 's', 'ms', 'us' or 'ns', not '" + name +
                        "'");
}

data::bad_rows bad_rows_of(const std::string& name) {
  if (name == "fail") return data::bad_rows::fail;
  if (name == "skip") return data::bad_rows::skip;
  throw py::value_error("asp.data: bad_rows must be 'fail' or 'skip', not '" + name + "'");
}

native_past read_csv(std::string path, std::string time_column, const std::string& times,
                     const std::string& delimiter, const std::string& schema,
                     const std::string& bad_rows) {
  data::table_options options;
  options.csv.time_column = std::move(time_column);
  options.csv.times = time_format_of(times);
  if (delimiter.size() != 1) {
    throw py::value_error("asp.data.read_csv: delimiter must be one character");
  }
  options.csv.delimiter = delimiter[0];
  if (!schema.empty()) options.columns = data::table_schema::parse_columns(schema);
  options.csv.on_bad_row = bad_rows_of(bad_rows);
  // Open now, so that a missing file or a bad header fails at the call.
  auto table = std::make_shared<data::csv_table>(path, options);
  return native_past{"CSV file '" + path + "'", [table, path](engine&) {
                       auto schema_of = std::make_shared<data::table_schema>(table->schema());
                       python_values values(std::move(*table),
                                            [schema_of, path](const event<std::string>& e) {
                                              return decode(*schema_of, e.value, path);
                                            });
                       return any_past_source<py_event>(std::move(values));
                     }};
}

native_past read_log(std::string path, std::string stream, py::object start, py::object end) {
  data::log_read_options options;
  options.streams = {stream};
  if (!start.is_none()) options.start = to_time(start.ptr(), "asp.data.read_log: start");
  if (!end.is_none()) options.end = to_time(end.ptr(), "asp.data.read_log: end");
  auto reader = std::make_shared<data::log_reader>(path, options);
  const std::optional<data::table_schema> schema =
      schema_of(path, reader->streams()[reader->stream_id(stream)]);
  return native_past{
      "stream '" + stream + "' of the record log '" + path + "'", [reader, schema, path](engine&) {
        python_values values(std::move(*reader), [schema, path](const event<data::log_record>& e) {
          return value_of(schema, e.value.payload, path);
        });
        return any_past_source<py_event>(std::move(values));
      }};
}

/// asp.data.LogFile: a record log or dataset opened once, whose streams' sources share one
/// scan of the file (asp::data::log_file).
struct log_file_handle {
  std::string path;
  std::shared_ptr<data::log_file> file;

  native_past source(const std::string& stream) {
    const auto& streams = file->streams();
    const auto it = std::find_if(streams.begin(), streams.end(),
                                 [&](const data::log_stream& s) { return s.name == stream; });
    if (it == streams.end()) {
      std::string names;
      for (const data::log_stream& s : streams)
        names += (names.empty() ? "'" : ", '") + s.name + "'";
      throw py::value_error("asp.data.LogFile.source: " + path + " has no stream '" + stream +
                            "' (it has " + (names.empty() ? std::string("none") : names) + ")");
    }
    std::optional<data::table_schema> table = schema_of(path, *it);
    std::shared_ptr<data::shared_log_source<std::string>> source;
    try {
      // Made now, so that it joins the shared scan before any stream reads it.
      source =
          std::make_shared<data::shared_log_source<std::string>>(file->source<std::string>(stream));
    } catch (const std::logic_error& e) {
      throw py::value_error(std::string("asp.data.LogFile.source: ") + e.what());
    }
    return native_past{"stream '" + stream + "' of the record log '" + path + "'",
                       [source, table, where = path](engine&) {
                         python_values values(std::move(*source),
                                              [table, where](const event<std::string>& e) {
                                                return value_of(table, e.value, where);
                                              });
                         return any_past_source<py_event>(std::move(values));
                       }};
  }
};

}  // namespace

void bind_native(py::module_& m) {
  auto cls =
      py::class_<native_past>(m, "NativeSource",
                              "A past source read in C++: pass it as process_stream's past")
          .def("__repr__", [](const native_past& s) { return "<asp source " + s.what + ">"; });
  g_native_type = reinterpret_cast<PyTypeObject*>(cls.ptr());
}

bool is_native_past(py::handle o) {
  return g_native_type != nullptr && Py_TYPE(o.ptr()) == g_native_type;
}

any_past_source<py_event> take_native_past(py::handle o, engine& e) {
  native_past& source = o.cast<native_past&>();
  if (source.used) {
    throw py::value_error("asp: the " + source.what + " has been read by a stream already");
  }
  source.used = true;
  return source.open(e);
}

void bind_data(py::module_& m) {
  m.def("read_csv", &read_csv, py::arg("path"), py::kw_only(), py::arg("time_column") = "",
        py::arg("times") = "iso8601", py::arg("delimiter") = ",", py::arg("schema") = "",
        py::arg("bad_rows") = "fail");
  m.def("read_log", &read_log, py::arg("path"), py::arg("stream"), py::kw_only(),
        py::arg("start") = py::none(), py::arg("end") = py::none());
  py::class_<log_file_handle>(
      m, "LogFile",
      "A record log, or a dataset of them, opened once: its streams' sources share one scan")
      .def(py::init([](std::string path, py::object start, py::object end) {
             data::log_read_options options;
             if (!start.is_none()) options.start = to_time(start.ptr(), "asp.data.LogFile: start");
             if (!end.is_none()) options.end = to_time(end.ptr(), "asp.data.LogFile: end");
             auto file = std::make_shared<data::log_file>(path, options);
             return log_file_handle{std::move(path), std::move(file)};
           }),
           py::arg("path"), py::kw_only(), py::arg("start") = py::none(),
           py::arg("end") = py::none())
      .def_property_readonly("streams",
                             [](const log_file_handle& h) {
                               std::vector<std::string> names;
                               for (const data::log_stream& s : h.file->streams()) {
                                 names.push_back(s.name);
                               }
                               return names;
                             })
      .def_property_readonly("path", [](const log_file_handle& h) { return h.path; })
      .def("source", &log_file_handle::source, py::arg("stream"))
      .def("__repr__",
           [](const log_file_handle& h) { return "<asp.data.LogFile '" + h.path + "'>"; });
  m.def(
      "csv_columns",
      [](const std::string& path, const std::string& time_column, const std::string& times,
         const std::string& delimiter) {
        data::table_options options;
        options.csv.time_column = time_column;
        options.csv.times = time_format_of(times);
        options.csv.delimiter = delimiter.empty() ? ',' : delimiter[0];
        data::csv_table table(path, options);
        std::vector<std::string> names;
        for (const auto& c : table.schema().columns) names.push_back(c.name);
        return names;
      },
      py::arg("path"), py::arg("time_column") = "", py::arg("times") = "iso8601",
      py::arg("delimiter") = ",");
}

}  // namespace asp::python

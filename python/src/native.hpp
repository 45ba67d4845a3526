#pragma once

// Past sources implemented in C++ (the CSV reader, the record log): handed to
// process_stream as `past`, they are read natively, and only each event's value becomes a
// Python object.

#include "streams.hpp"

#include <asp/source.hpp>

#include <functional>
#include <string>

namespace asp::python {

/// A native past source, as Python holds it until a stream starts with it. Read once.
struct native_past {
  std::string what;
  std::function<any_past_source<py_event>(engine&)> open;
  bool used = false;
};

/// Registers the Python type of native_past (asp._engine.NativeSource).
void bind_native(py::module_& m);

bool is_native_past(py::handle o);

/// Opens the source for a stream on `e`; raises ValueError if it was opened before.
any_past_source<py_event> take_native_past(py::handle o, engine& e);

}  // namespace asp::python

#pragma once

// Sources implemented in C++ — the CSV reader and the record log as `past`, asp::asio's
// sockets as `future`: they are read natively, and only each event's value becomes a Python
// object.

#include "streams.hpp"

#include <asp/source.hpp>

#include <functional>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace asp::python {

/// A native past source, as Python holds it until a stream starts with it. Read once.
struct native_past {
  std::string what;
  std::function<any_past_source<py_event>(engine&)> open;
  bool used = false;
};

/// An input range of py_event over a C++ range of events (a file's, a subscription's):
/// `to_value` turns each event into the Python value.
template <class Inner, class ToValue>
class python_values {
 public:
  using iterator = pull_iterator<python_values>;

  python_values(Inner inner, ToValue to_value)
      : m_inner(std::make_unique<Inner>(std::move(inner))), m_to_value(std::move(to_value)) {}
  python_values(python_values&&) noexcept = default;

  iterator begin() {
    if (!m_begun) {
      m_begun = true;
      m_it = m_inner->begin();
      load();
    }
    return iterator{this};
  }
  std::default_sentinel_t end() const noexcept { return {}; }
  bool at_end() const { return m_it == std::default_sentinel; }
  const py_event& current() const noexcept { return m_current; }
  void advance() {
    ++m_it;
    load();
  }

 private:
  void load() {
    if (m_it == std::default_sentinel) return;
    const auto& e = *m_it;
    m_current = py_event{e.time, {py::none(), m_to_value(e), e.time}};
  }

  std::unique_ptr<Inner> m_inner;
  ToValue m_to_value;
  typename Inner::iterator m_it{};
  py_event m_current{};
  bool m_begun = false;
};

/// A message received by a live source as Python sees it: str (UTF-8, invalid bytes
/// replaced), or bytes with `as_bytes`.
inline py::object message_value(std::string_view text, bool as_bytes) {
  const auto size = static_cast<Py_ssize_t>(text.size());
  PyObject* value = as_bytes ? PyBytes_FromStringAndSize(text.data(), size)
                             : PyUnicode_DecodeUTF8(text.data(), size, "replace");
  if (value == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(value);
}

/// Registers the Python type of native_past (asp._engine.NativeSource).
void bind_native(py::module_& m);

bool is_native_past(py::handle o);

/// Opens the source for a stream on `e`; raises ValueError if it was opened before.
any_past_source<py_event> take_native_past(py::handle o, engine& e);

/// Registers the live sources of asp::asio (io.cpp): asp._engine.LiveSource, io_tcp, io_udp,
/// io_websocket.
void bind_io(py::module_& m);

/// Registers asp._engine.from_arrays (arrays as a past source: python/src/arrays.cpp).
void bind_arrays(py::module_& m);

bool is_native_future(py::handle o);

/// asp.nats (nats.cpp, when built with asp::nats): registers asp._engine.nats_subject,
/// NatsPublisher and the rest; `.live` of a subject is a native future of its own type.
void bind_nats(py::module_& m);
#ifdef ASP_PYTHON_NATS
bool is_nats_live(py::handle o);
any_live_source<py_event> take_nats_live(py::handle o, loop& l);
#else
inline bool is_nats_live(py::handle) {
  return false;
}
inline any_live_source<py_event> take_nats_live(py::handle, loop&) {
  throw std::logic_error("asp: built without asp.nats");
}
#endif

/// Opens the live source for a stream on `l`: starts its bridge thread. Raises ValueError if
/// it was opened before, and what opening it raises (a UDP port that cannot be bound).
any_live_source<py_event> take_native_future(py::handle o, loop& l);

}  // namespace asp::python

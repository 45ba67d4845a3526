// asp.nats: a JetStream subject as a past-then-live source, and a publisher (asp::nats).
//
// A subject's subscription is made when its stream starts, on the run's loop: the history
// (found from the start time or sequence) is the stream's past, read natively on the run's
// thread; the live messages after it come from the subscription's receiver thread through
// asp::nats's channel. `.past` and `.live` of one Subject share that subscription, so the seam
// has no gap and no duplicate. Only each message handed to the callback becomes a Python
// object (an asp.nats.Message).

#include "native.hpp"

#include <asp/error.hpp>
#include <asp/nats/connection.hpp>
#include <asp/nats/sink.hpp>
#include <asp/nats/source.hpp>

#include <pybind11/stl.h>

#include <chrono>
#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace asp::python {

namespace {

using nats_source = asp::nats::subject_source<std::string>;
using nats_message = asp::nats::message<std::string>;

PyTypeObject* g_nats_live_type = nullptr;
py::object g_message_type;  // asp.nats.Message, a named tuple

std::chrono::milliseconds milliseconds_of(double seconds, const char* what) {
  if (!(seconds >= 0) || !std::isfinite(seconds)) {
    throw py::value_error(std::string("asp.nats: ") + what +
                          " must be a finite number of seconds, at least 0");
  }
  return std::chrono::milliseconds{static_cast<std::int64_t>(std::llround(seconds * 1000))};
}

asp::nats::connection connect(const std::string& servers) {
  try {
    return asp::nats::connection(servers);
  } catch (const input_error& e) {
    PyErr_SetString(PyExc_ConnectionError, e.what());
    throw py::error_already_set();
  }
}

// asp.nats.Subject: what to read, until a stream starts with it; then its subscription.
struct subject_handle {
  std::string what;
  asp::nats::connection connection;
  asp::nats::subscribe_options options;
  bool as_bytes = false;
  std::shared_ptr<nats_source> source;  // made by the first stream that takes a part
  asp::loop* bound = nullptr;
  bool past_taken = false;
  bool live_taken = false;

  void open(asp::loop& l) {
    if (source && bound != &l) {
      throw py::value_error("asp.nats: the " + what + " is read by another run already");
    }
    if (!source) {
      source = std::make_shared<nats_source>(l, connection, options);
      bound = &l;
    }
  }
};

// The value a callback receives: asp.nats.Message(value, subject, sequence, stored, headers).
py::object message_object(engine& e, const nats_message& m, bool as_bytes) {
  py::tuple headers(static_cast<py::ssize_t>(m.headers.size()));
  for (std::size_t i = 0; i < m.headers.size(); ++i) {
    headers[i] = py::make_tuple(m.headers[i].first, m.headers[i].second);
  }
  return g_message_type(message_value(m.value, as_bytes), m.subject, m.sequence,
                        e.kind().to_datetime(m.stored), headers);
}

// The live messages as a live source of py_events.
class nats_live {
 public:
  nats_live(engine& e, const nats_source& source, bool as_bytes)
      : m_engine(&e), m_live(source.live()), m_as_bytes(as_bytes) {}

  task<std::optional<py_event>> next() {
    std::optional<event<nats_message>> got = co_await m_live.next();
    if (!got) co_return std::nullopt;
    co_return py_event{got->time,
                       {py::none(), message_object(*m_engine, got->value, m_as_bytes), got->time}};
  }
  void close() { m_live.close(); }

 private:
  engine* m_engine;
  nats_source::live_messages m_live;  // holds the subscription
  bool m_as_bytes;
};

// `.live` of a Subject, as process_stream's future: the Python object that take_native_future
// recognises.
struct live_part {
  std::shared_ptr<subject_handle> subject;
};

// asp.nats.Publisher: binds to the run that publishes first.
struct publisher_handle {
  asp::nats::connection connection;
  asp::nats::publish_options options;
  std::unique_ptr<asp::nats::publisher<std::string>> publisher;
  std::uint64_t run = 0;

  asp::nats::publisher<std::string>& bound() {
    engine& e = engine::require("nats.Publisher.publish");
    if (publisher && run != e.id()) {
      throw std::runtime_error("asp.nats.Publisher: publishing to '" + options.subject +
                               "' from another run than its first; make one per run");
    }
    if (!publisher) {
      publisher =
          std::make_unique<asp::nats::publisher<std::string>>(e.loop(), connection, options);
      run = e.id();
    }
    return *publisher;
  }
};

std::string payload_of(py::handle value) {
  if (py::isinstance<py::bytes>(value)) return value.cast<std::string>();
  if (py::isinstance<py::str>(value)) return value.cast<std::string>();
  throw py::type_error("asp.nats.Publisher.publish: the value must be str or bytes, not " +
                       std::string(Py_TYPE(value.ptr())->tp_name));
}

std::vector<std::pair<std::string, std::string>> headers_of(py::handle headers) {
  std::vector<std::pair<std::string, std::string>> out;
  if (headers.is_none()) return out;
  py::object items = py::hasattr(headers, "items") ? headers.attr("items")()
                                                   : py::reinterpret_borrow<py::object>(headers);
  for (py::handle item : items) out.push_back(item.cast<std::pair<std::string, std::string>>());
  return out;
}

}  // namespace

bool is_nats_live(py::handle o) {
  return g_nats_live_type != nullptr && Py_TYPE(o.ptr()) == g_nats_live_type;
}

any_live_source<py_event> take_nats_live(py::handle o, asp::loop& l) {
  subject_handle& s = *o.cast<live_part&>().subject;
  if (s.live_taken) throw py::value_error("asp: the " + s.what + " has been read live already");
  engine& e = engine::require("nats");
  s.open(l);
  s.live_taken = true;
  return any_live_source<py_event>(nats_live(e, *s.source, s.as_bytes));
}

void bind_nats(py::module_& m) {
  m.attr("has_nats") = true;
  m.def("nats_set_message_type", [](py::object type) { g_message_type = std::move(type); });
  // The interpreter may end before this module's statics: let go of the type at its exit.
  py::module_::import("atexit").attr("register")(
      py::cpp_function([] { g_message_type = py::object(); }));

  py::class_<subject_handle, std::shared_ptr<subject_handle>>(
      m, "NatsSubject", "A JetStream subject: .past and .live for one process_stream")
      .def_property_readonly("past",
                             [](const std::shared_ptr<subject_handle>& s) {
                               return native_past{
                                   s->what, [s](engine& e) {
                                     if (s->past_taken) {
                                       throw py::value_error("asp: the history of the " + s->what +
                                                             " has been read already");
                                     }
                                     s->open(e.loop());
                                     s->past_taken = true;
                                     python_values history(
                                         s->source->past(), [owner = &e, as_bytes = s->as_bytes](
                                                                const event<nats_message>& got) {
                                           return message_object(*owner, got.value, as_bytes);
                                         });
                                     return any_past_source<py_event>(std::move(history));
                                   }};
                             })
      .def_property_readonly("live",
                             [](const std::shared_ptr<subject_handle>& s) { return live_part{s}; })
      .def_property_readonly("start_sequence",
                             [](const subject_handle& s) -> std::optional<std::uint64_t> {
                               if (!s.source) return std::nullopt;
                               return s.source->start_sequence();
                             })
      .def_property_readonly(
          "repeats_dropped",
          [](const subject_handle& s) { return s.source ? s.source->repeats_dropped() : 0; })
      .def("close",
           [](subject_handle& s) {
             if (s.source) s.source->close();
           })
      .def("__repr__", [](const subject_handle& s) { return "<asp " + s.what + ">"; });

  auto live = py::class_<live_part>(m, "NatsLive", "The live part of a JetStream subject");
  g_nats_live_type = reinterpret_cast<PyTypeObject*>(live.ptr());

  m.def(
      "nats_subject",
      [](const std::string& servers, const std::string& stream, const std::string& subject,
         py::object start, const std::string& times, double start_tolerance,
         std::uint64_t caught_up_pending, double stall_timeout, bool follow_live,
         std::size_t live_capacity, bool keep_headers, bool as_bytes) {
        asp::nats::subscribe_options options;
        if (stream.empty()) throw py::value_error("asp.nats.subject: stream must not be empty");
        options.stream = stream;
        options.subject = subject;
        if (start.is_none()) {
          options.start = asp::nats::from_sequence{1};
        } else if (py::isinstance<py::str>(start)) {
          if (start.cast<std::string>() != "new") {
            throw py::value_error(
                "asp.nats.subject: start must be a datetime, a sequence number or 'new'");
          }
          options.start = asp::nats::new_only;
        } else if (py::isinstance<py::int_>(start) && !py::isinstance<py::bool_>(start)) {
          const auto sequence = start.cast<std::int64_t>();
          if (sequence < 1) throw py::value_error("asp.nats.subject: a start sequence is >= 1");
          options.start = asp::nats::from_sequence{static_cast<std::uint64_t>(sequence)};
        } else {
          options.start = to_time(start.ptr(), "asp.nats.subject: start");
        }
        if (times == "header") {
          options.times = asp::nats::time_source::header;
        } else if (times == "server") {
          options.times = asp::nats::time_source::server;
        } else {
          throw py::value_error("asp.nats.subject: times must be 'header' or 'server', not '" +
                                times + "'");
        }
        options.start_tolerance = milliseconds_of(start_tolerance, "start_tolerance");
        options.caught_up_pending = caught_up_pending;
        options.stall_timeout = milliseconds_of(stall_timeout, "stall_timeout");
        options.follow_live = follow_live;
        if (live_capacity == 0) throw py::value_error("asp.nats.subject: live_capacity >= 1");
        options.live_capacity = live_capacity;
        options.keep_headers = keep_headers;
        auto s = std::make_shared<subject_handle>(subject_handle{
            "nats stream '" + stream + "' subject '" + subject + "' at " + servers,
            connect(servers), std::move(options), as_bytes, nullptr, nullptr, false, false});
        return s;
      },
      py::arg("servers"), py::arg("stream"), py::arg("subject") = ">", py::kw_only(),
      py::arg("start") = py::none(), py::arg("times") = "header", py::arg("start_tolerance") = 0.0,
      py::arg("caught_up_pending") = 0, py::arg("stall_timeout") = 60.0,
      py::arg("follow_live") = true, py::arg("live_capacity") = 65536,
      py::arg("keep_headers") = false, py::arg("as_bytes") = false);

  py::class_<publisher_handle>(m, "NatsPublisher", "Publishes to JetStream (asp.nats.Publisher)")
      .def(py::init([](const std::string& servers, const std::string& subject,
                       const std::string& name, std::size_t max_in_flight, bool message_ids,
                       double flush_timeout, std::size_t max_attempts, double retry_for) {
             if (subject.empty()) {
               throw py::value_error("asp.nats.Publisher: subject must not be empty");
             }
             if (max_in_flight == 0 || max_attempts == 0) {
               throw py::value_error(
                   "asp.nats.Publisher: max_in_flight and max_attempts must be at least 1");
             }
             asp::nats::publish_options options;
             options.subject = subject;
             options.name = name;
             options.max_in_flight = max_in_flight;
             options.message_ids = message_ids;
             options.flush_timeout = milliseconds_of(flush_timeout, "flush_timeout");
             options.max_attempts = max_attempts;
             options.retry_for = milliseconds_of(retry_for, "retry_for");
             return std::make_unique<publisher_handle>(
                 publisher_handle{connect(servers), std::move(options), nullptr, 0});
           }),
           py::arg("servers"), py::arg("subject"), py::kw_only(), py::arg("name") = "publisher",
           py::arg("max_in_flight") = 4096, py::arg("message_ids") = true,
           py::arg("flush_timeout") = 30.0, py::arg("max_attempts") = 60,
           py::arg("retry_for") = 60.0)
      .def(
          "publish",
          [](publisher_handle& p, py::handle value, py::object subject, py::object time,
             py::handle headers) {
            asp::nats::publisher<std::string>& out = p.bound();
            engine& e = engine::require("nats.Publisher.publish");
            const time_point t =
                time.is_none() ? e.loop().now() : to_time(time.ptr(), "asp.nats.publish: time");
            const std::string payload = payload_of(value);
            const std::string to = subject.is_none() ? std::string() : subject.cast<std::string>();
            out.publish(to, t, payload, headers_of(headers));
          },
          py::arg("value"), py::kw_only(), py::arg("subject") = py::none(),
          py::arg("time") = py::none(), py::arg("headers") = py::none())
      .def("flush",
           [](publisher_handle& p) {
             if (!p.publisher) return;
             try {
               py::gil_scoped_release unlocked;
               p.publisher->flush();
             } catch (const input_error& e) {
               throw py::value_error(e.what());
             }
           })
      .def_property_readonly("published",
                             [](const publisher_handle& p) -> std::uint64_t {
                               return p.publisher ? p.publisher->published() : 0;
                             })
      .def_property_readonly("failed",
                             [](const publisher_handle& p) -> std::uint64_t {
                               return p.publisher ? p.publisher->failed() : 0;
                             })
      .def_property_readonly("resent", [](const publisher_handle& p) -> std::uint64_t {
        return p.publisher ? p.publisher->resent() : 0;
      });

  m.def(
      "nats_add_stream",
      [](const std::string& servers, const std::string& name, std::vector<std::string> subjects,
         bool allow_direct) {
        asp::nats::stream_config config;
        config.name = name;
        config.subjects = std::move(subjects);
        config.allow_direct = allow_direct;
        connect(servers).add_stream(config);
      },
      py::arg("servers"), py::arg("name"), py::arg("subjects"), py::kw_only(),
      py::arg("allow_direct") = true);
}

}  // namespace asp::python

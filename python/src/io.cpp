// Live sources from asp::asio for Python: a TCP feed, UDP datagrams, a websocket. Each runs in
// a bridge thread of its own — an io_context inside an asp::loop on the real clock — that
// reads the source natively and pushes each message into an asp::channel of the Python run's
// loop, where it is due at its arrival (contract C6). Only the message handed to the
// callback becomes a Python object; the bridge thread never touches one.

#include "native.hpp"

#include <asp/asio/backend.hpp>
#include <asp/asio/tcp.hpp>
#include <asp/asio/udp.hpp>
#include <asp/asio/websocket.hpp>
#include <asp/channel.hpp>
#include <asp/error.hpp>
#include <asp/stream.hpp>

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

namespace asp::python {

namespace {

PyTypeObject* g_io_type = nullptr;

using message = event<std::string>;
using opener = std::function<any_live_source<message>(boost::asio::io_context&, asp::loop&)>;

// The bridge thread and what the Python run's side shares with it.
class bridge {
 public:
  // Starts the thread and waits until the source exists (a UDP socket is bound): a source
  // that cannot be opened fails here, on the run's side.
  bridge(opener open, channel<std::string> out) : m_out(std::move(out)) {
    std::unique_lock lock(m_mutex);
    m_thread = std::thread([this, open = std::move(open)]() mutable { main(std::move(open)); });
    m_changed.wait(lock, [&] { return m_opened || m_over; });
    if (!m_opened) {
      lock.unlock();
      m_thread.join();
      throw input_error(m_error);
    }
  }
  bridge(const bridge&) = delete;
  bridge& operator=(const bridge&) = delete;
  ~bridge() { stop(); }

  // Stops the source and joins the thread. Idempotent.
  void stop() noexcept {
    {
      std::lock_guard lock(m_mutex);
      m_stopping = true;
      if (m_loop != nullptr) m_loop->stop();
    }
    m_out.close();  // a producer blocked on a full channel gives up
    if (m_thread.joinable()) m_thread.join();
  }

  // The failure that ended the source, if any (after the channel's end).
  std::string error() {
    std::lock_guard lock(m_mutex);
    return m_error;
  }

 private:
  void main(opener open) {
    try {
      boost::asio::io_context ioc;
      asp::asio::io_context_backend waiting(ioc);
      asp::system_clock clock;
      asp::loop l(clock, waiting);
      any_live_source<message> source = open(ioc, l);
      {
        std::lock_guard lock(m_mutex);
        m_loop = &l;
        m_opened = true;
        if (m_stopping) l.stop();
      }
      m_changed.notify_all();
      auto forward = [this](time_point, const std::string& text) {
        try {
          m_out.push(text);
        } catch (const std::logic_error&) {
          // The run's side has closed the channel: it stops us next.
        }
      };
      try {
        l.run({}, process_stream(forward, none, std::move(source)));
      } catch (const run_error& failure) {
        std::string why = failure.what();
        try {
          std::rethrow_if_nested(failure);
        } catch (const std::exception& original) {
          why = original.what();
        }
        std::lock_guard lock(m_mutex);
        m_error = why;
      }
      std::lock_guard lock(m_mutex);
      m_loop = nullptr;
    } catch (const std::exception& e) {
      std::lock_guard lock(m_mutex);
      m_error = e.what();
    }
    {
      std::lock_guard lock(m_mutex);
      m_over = true;
    }
    m_changed.notify_all();
    m_out.close();
  }

  channel<std::string> m_out;
  std::thread m_thread;
  std::mutex m_mutex;
  std::condition_variable m_changed;
  asp::loop* m_loop = nullptr;
  std::string m_error;
  bool m_opened = false;
  bool m_over = false;
  bool m_stopping = false;
};

// A live source as Python holds it until a stream starts with it.
struct io_source {
  std::string what;
  opener open;
  bool as_bytes = false;
  bool used = false;
  std::shared_ptr<std::uint16_t> port = std::make_shared<std::uint16_t>(0);
  // The open bridge, for close().
  std::shared_ptr<std::weak_ptr<bridge>> open_bridge = std::make_shared<std::weak_ptr<bridge>>();
};

// The run's side: the channel's messages as py_events.
class io_future {
 public:
  io_future(asp::loop& l, io_source& source)
      : m_channel(l, 1024, when_full::block, source.what), m_as_bytes(source.as_bytes) {
    m_bridge = std::make_shared<bridge>(source.open, m_channel);
    *source.open_bridge = m_bridge;
  }

  task<std::optional<py_event>> next() {
    std::optional<message> got = co_await m_channel.next();
    if (!got) {
      m_bridge->stop();
      if (std::string why = m_bridge->error(); !why.empty()) throw input_error(why);
      co_return std::nullopt;
    }
    const std::string& text = got->value;
    PyObject* value =
        m_as_bytes
            ? PyBytes_FromStringAndSize(text.data(), static_cast<Py_ssize_t>(text.size()))
            : PyUnicode_DecodeUTF8(text.data(), static_cast<Py_ssize_t>(text.size()), "replace");
    if (value == nullptr) throw py::error_already_set();
    co_return py_event{got->time,
                       {py::none(), py::reinterpret_steal<py::object>(value), got->time}};
  }

  void close() { m_bridge->stop(); }

 private:
  channel<std::string> m_channel;
  std::shared_ptr<bridge> m_bridge;
  bool m_as_bytes;
};

io_source tcp(std::string host, std::uint16_t port, const std::string& framing, bool reconnect,
              bool as_bytes) {
  asp::asio::tcp_options options;
  if (framing == "lines") {
    options.frames = asp::asio::framing::lines;
  } else if (framing == "length_prefixed") {
    options.frames = asp::asio::framing::length_prefixed;
  } else {
    throw py::value_error("asp.io.tcp: framing must be 'lines' or 'length_prefixed', not '" +
                          framing + "'");
  }
  options.reconnect.enabled = reconnect;
  std::string what = "tcp source '" + host + ":" + std::to_string(port) + "'";
  return io_source{
      what,
      [host, port, options](boost::asio::io_context& ioc, asp::loop& l) {
        return any_live_source<message>(asp::asio::tcp_client(ioc, l, host, port, options));
      },
      as_bytes};
}

io_source udp(std::uint16_t port, std::string address, bool as_bytes) {
  io_source source{"udp source '" + address + ":" + std::to_string(port) + "'", {}, as_bytes};
  auto bound = source.port;
  source.open = [address, port, bound](boost::asio::io_context& ioc, asp::loop& l) {
    asp::asio::udp_source socket(ioc, l, address, port);
    *bound = socket.port();  // before the run's side is told the source is open
    return any_live_source<message>(std::move(socket));
  };
  return source;
}

io_source websocket(std::string url, bool reconnect, bool as_bytes) {
  asp::asio::websocket_options options;
  options.reconnect.enabled = reconnect;
  return io_source{
      "websocket source '" + url + "'",
      [url, options](boost::asio::io_context& ioc, asp::loop& l) {
        return any_live_source<message>(asp::asio::websocket_client(ioc, l, url, options));
      },
      as_bytes};
}

}  // namespace

bool is_native_future(py::handle o) {
  return g_io_type != nullptr && Py_TYPE(o.ptr()) == g_io_type;
}

any_live_source<py_event> take_native_future(py::handle o, asp::loop& l) {
  io_source& source = o.cast<io_source&>();
  if (source.used) {
    throw py::value_error("asp: the " + source.what + " has been read by a stream already");
  }
  source.used = true;
  return any_live_source<py_event>(io_future(l, source));
}

void bind_io(py::module_& m) {
  auto cls = py::class_<io_source>(m, "LiveSource",
                                   "A live source read in C++: pass it as process_stream's future")
                 .def_property_readonly("port", [](const io_source& s) { return *s.port; })
                 .def("close",
                      [](io_source& s) {
                        if (auto open = s.open_bridge->lock()) open->stop();
                      })
                 .def("__repr__", [](const io_source& s) { return "<asp source " + s.what + ">"; });
  g_io_type = reinterpret_cast<PyTypeObject*>(cls.ptr());
  m.def("io_tcp", &tcp, py::arg("host"), py::arg("port"), py::kw_only(),
        py::arg("framing") = "lines", py::arg("reconnect") = false, py::arg("as_bytes") = false);
  m.def("io_udp", &udp, py::arg("port"), py::kw_only(), py::arg("address") = "127.0.0.1",
        py::arg("as_bytes") = false);
  m.def("io_websocket", &websocket, py::arg("url"), py::kw_only(), py::arg("reconnect") = false,
        py::arg("as_bytes") = false);
}

}  // namespace asp::python

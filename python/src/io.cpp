// Live sources from asp::asio for Python: a TCP feed, UDP datagrams, a websocket. They share one
// I/O thread — an io_context inside an asp::loop on the real clock — that reads each source
// natively and pushes each message into an asp::channel of its Python run's loop, where it is
// due at its arrival (contract C6). Only the message handed to the callback becomes a Python
// object; the I/O thread never touches one.

#include "native.hpp"

#include <asp/asio/backend.hpp>
#include <asp/asio/tcp.hpp>
#include <asp/asio/udp.hpp>
#include <asp/asio/websocket.hpp>
#include <asp/channel.hpp>
#include <asp/error.hpp>
#include <asp/stream.hpp>

#include <asp/spawn.hpp>

#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>

namespace asp::python {

namespace {

PyTypeObject* g_io_type = nullptr;

using message = event<std::string>;
using opener = std::function<any_live_source<message>(boost::asio::io_context&, asp::loop&)>;

// What a source's forwarding task on the I/O thread and the run's side share.
struct forwarded {
  explicit forwarded(channel<std::string> channel) : out(std::move(channel)) {}
  channel<std::string> out;
  std::mutex mutex;
  std::string error;  // the failure that ended the source, if any (set before out closes)
  // The I/O thread's only: the source while its task runs, for close().
  any_live_source<message>* source = nullptr;
  bool closing = false;
};

// The thread that every asp.io source of the process shares: one io_context inside one
// asp::loop on the real clock. It starts with the first source opened and ends when the last
// run's side that uses it lets it go. Each source is a task on it that takes the source's
// messages and pushes them into its run's channel; a failure ends that source alone (its run
// sees it), not the thread. A full channel makes the thread wait: the runs that read the
// channels are the bottleneck of every source alike.
class io_thread {
 public:
  // The running thread, or a new one.
  static std::shared_ptr<io_thread> get() {
    static std::mutex registry;
    static std::weak_ptr<io_thread> current;
    std::lock_guard lock(registry);
    std::shared_ptr<io_thread> t = current.lock();
    if (!t) {
      t = std::shared_ptr<io_thread>(new io_thread());
      current = t;
    }
    return t;
  }

  io_thread(const io_thread&) = delete;
  io_thread& operator=(const io_thread&) = delete;
  ~io_thread() {
    // Every source has been closed by now (each run's side holds the thread until it has).
    m_loop.post([this] {
      m_guard.reset();
      m_loop.stop();
    });
    m_thread.join();
  }

  // Opens a source on the thread, forwarding into `out`; returns once it is open (a UDP socket
  // bound), or throws why it could not be.
  std::shared_ptr<forwarded> open(opener make, channel<std::string> out) {
    auto state = std::make_shared<forwarded>(std::move(out));
    std::promise<void> opened;
    std::future<void> result = opened.get_future();
    m_loop.post([this, state, make = std::move(make), &opened]() mutable {
      try {
        any_live_source<message> source = make(m_ioc, m_loop);
        asp::spawn(m_loop, forward(state, std::move(source)), "asp.io source").detach();
        opened.set_value();
      } catch (...) {
        opened.set_exception(std::current_exception());
      }
    });
    try {
      result.get();
    } catch (const std::exception& e) {
      throw input_error(e.what());
    }
    return state;
  }

  // Ends a source: its channel at once (a push waiting for room gives up), the source itself
  // on the thread. Idempotent; callable from any thread but the I/O thread.
  void close(const std::shared_ptr<forwarded>& state) {
    state->out.close();
    m_loop.post([state] {
      state->closing = true;
      if (state->source != nullptr) state->source->close();
    });
  }

 private:
  io_thread() : m_waiting(m_ioc), m_loop(m_clock, m_waiting), m_guard(m_loop.hold()) {
    m_thread = std::thread([this] { m_loop.run(); });
  }

  static task<void> forward(std::shared_ptr<forwarded> state, any_live_source<message> source) {
    state->source = &source;
    if (state->closing) source.close();
    try {
      while (std::optional<message> m = co_await source.next()) {
        try {
          state->out.push(std::move(m->value));
        } catch (const std::logic_error&) {
          break;  // the run's side closed the channel: it is closing the source too
        }
      }
    } catch (const std::exception& e) {
      std::lock_guard lock(state->mutex);
      state->error = e.what();
    }
    state->source = nullptr;
    state->out.close();
  }

  boost::asio::io_context m_ioc;
  asp::asio::io_context_backend m_waiting;
  asp::system_clock m_clock;
  asp::loop m_loop;
  work_guard m_guard;
  std::thread m_thread;
};

// A source open on the I/O thread, as its Python object sees it while a run reads it.
struct io_source_opened {
  std::shared_ptr<io_thread> thread;
  std::shared_ptr<forwarded> state;
};

// A live source as Python holds it until a stream starts with it.
struct io_source {
  std::string what;
  opener open;
  bool as_bytes = false;
  bool used = false;
  std::shared_ptr<std::uint16_t> port = std::make_shared<std::uint16_t>(0);
  // The open source, for close().
  std::shared_ptr<io_source_opened> open_state = std::make_shared<io_source_opened>();
};

// The run's side: the channel's messages as py_events.
class io_future {
 public:
  io_future(asp::loop& l, io_source& source)
      : m_channel(l, 1024, when_full::block, source.what),
        m_thread(io_thread::get()),
        m_as_bytes(source.as_bytes) {
    m_state = m_thread->open(source.open, m_channel);
    m_opened = source.open_state;
    *m_opened = {m_thread, m_state};
  }
  io_future(io_future&&) noexcept = default;
  io_future& operator=(io_future&&) noexcept = default;
  ~io_future() {
    if (!m_state) return;  // moved from
    m_thread->close(m_state);
    // The Python object lets the I/O thread go too: it ends with the last source.
    *m_opened = {};
  }

  task<std::optional<py_event>> next() {
    std::optional<message> got = co_await m_channel.next();
    if (!got) {
      m_thread->close(m_state);
      std::lock_guard lock(m_state->mutex);
      if (!m_state->error.empty()) throw input_error(m_state->error);
      co_return std::nullopt;
    }
    co_return py_event{got->time, {py::none(), message_value(got->value, m_as_bytes), got->time}};
  }

  void close() { m_thread->close(m_state); }

 private:
  channel<std::string> m_channel;
  std::shared_ptr<io_thread> m_thread;
  std::shared_ptr<forwarded> m_state;
  std::shared_ptr<io_source_opened> m_opened;
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
                        if (s.open_state->thread) s.open_state->thread->close(s.open_state->state);
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

// Replay nested in an io_context (asp::asio::host, asp::asio::io_context_backend) against the
// same replay standalone, in the same binary: nesting must not slow replay down.
#include <asp/asio/backend.hpp>
#include <asp/asio/host.hpp>
#include <asp/asio/tcp.hpp>
#include <asp/asio/websocket.hpp>
#include <asp/asp.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket.hpp>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <istream>
#include <ranges>
#include <string>
#include <thread>
#include <vector>

namespace {

const asp::time_point t0 = std::chrono::sys_days{std::chrono::year{2025} / 1 / 1};
const asp::time_point far_future = t0 + std::chrono::days(365 * 100);
constexpr std::int64_t total_events = 10'000'000;

using events = std::vector<asp::event<std::int64_t>>;

std::vector<events> make_streams(std::int64_t streams) {
  std::vector<events> out(static_cast<std::size_t>(streams));
  for (std::int64_t i = 0; i < total_events; ++i) {
    out[static_cast<std::size_t>(i % streams)].push_back({t0 + std::chrono::microseconds(i), i});
  }
  return out;
}

void per_event(benchmark::State& state) {
  state.counters["per_event"] = benchmark::Counter(
      static_cast<double>(total_events),
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

template <class Run>
void replay(benchmark::State& state, Run run) {
  const auto data = make_streams(state.range(0));
  for (auto _ : state) {
    std::int64_t sum = 0;
    run([&](asp::loop& loop) {
      for (const auto& d : data) {
        asp::start(loop, asp::process_stream([&sum](asp::time_point, std::int64_t v) { sum += v; },
                                             std::views::all(d)))
            .detach();
      }
    });
    benchmark::DoNotOptimize(sum);
  }
  per_event(state);
}

void BM_Baseline_Standalone(benchmark::State& state) {
  replay(state, [](auto start) {
    asp::manual_clock clock(far_future);
    asp::loop loop(clock);
    start(loop);
    loop.run();
  });
}
BENCHMARK(BM_Baseline_Standalone)->Arg(1)->Arg(8)->Unit(benchmark::kMillisecond);

void BM_HostedInIoContext(benchmark::State& state) {
  replay(state, [](auto start) {
    boost::asio::io_context ioc;
    asp::manual_clock clock(far_future);
    asp::loop loop(clock);
    start(loop);
    asp::asio::host host(ioc, loop);
    ioc.run();
  });
}
BENCHMARK(BM_HostedInIoContext)->Arg(1)->Arg(8)->Unit(benchmark::kMillisecond);

void BM_WaitingInIoContext(benchmark::State& state) {
  replay(state, [](auto start) {
    boost::asio::io_context ioc;
    asp::asio::io_context_backend backend(ioc);
    asp::manual_clock clock(far_future);
    asp::loop loop(clock, backend);
    start(loop);
    loop.run();
  });
}
BENCHMARK(BM_WaitingInIoContext)->Arg(1)->Arg(8)->Unit(benchmark::kMillisecond);

// --- Sockets on loopback: ASP's TCP source against a raw Asio coroutine on the same socket ---

using boost::asio::ip::tcp;
using steady = std::chrono::steady_clock;

std::int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now().time_since_epoch())
      .count();
}

// A writer thread on its own io_context: accepts one reader and sends `count` lines, each
// holding its send time; with `paced`, it waits for the reader to take each line before the
// next (latency), else it sends them all at once (throughput).
struct writer {
  writer(std::int64_t count, bool paced)
      : m_acceptor(m_ioc, tcp::endpoint(boost::asio::ip::address_v4::loopback(), 0)),
        m_count(count),
        m_paced(paced) {}
  std::uint16_t port() const { return m_acceptor.local_endpoint().port(); }
  void start() {
    m_thread = std::thread([this] {
      tcp::socket socket = m_acceptor.accept();
      socket.set_option(tcp::no_delay(true));
      std::string batch;
      for (std::int64_t i = 0; i < m_count; ++i) {
        if (m_paced) {
          while (m_taken.load(std::memory_order_acquire) < i) {
          }
          const std::string line = std::to_string(steady_ns()) + "\n";
          boost::asio::write(socket, boost::asio::buffer(line));
        } else {
          batch += "0123456789abcdef\n";
          if (batch.size() > 64 * 1024 || i + 1 == m_count) {
            boost::asio::write(socket, boost::asio::buffer(batch));
            batch.clear();
          }
        }
      }
      socket.shutdown(tcp::socket::shutdown_send);
      char drain[64];
      boost::system::error_code ec;
      while (socket.read_some(boost::asio::buffer(drain), ec) > 0) {
      }
    });
  }
  ~writer() {
    if (m_thread.joinable()) m_thread.join();
  }
  boost::asio::io_context m_ioc;
  tcp::acceptor m_acceptor;
  std::int64_t m_count;
  bool m_paced;
  std::atomic<std::int64_t> m_taken{0};
  std::thread m_thread;
};

void report_latency(benchmark::State& state, std::vector<std::int64_t>& samples) {
  std::sort(samples.begin(), samples.end());
  state.counters["p50_us"] = static_cast<double>(samples[samples.size() / 2]) / 1000.0;
  state.counters["p99_us"] = static_cast<double>(samples[samples.size() * 99 / 100]) / 1000.0;
}

constexpr std::int64_t latency_samples = 5000;
constexpr std::int64_t throughput_lines = 1'000'000;

// A raw Asio C++20 coroutine reading lines from the socket (the baseline).
boost::asio::awaitable<void> raw_reader(tcp::socket& socket, writer& w,
                                        std::vector<std::int64_t>* samples, std::int64_t& lines) {
  boost::asio::streambuf buffer;
  for (;;) {
    auto [ec, n] = co_await boost::asio::async_read_until(
        socket, buffer, '\n', boost::asio::as_tuple(boost::asio::use_awaitable));
    if (ec) co_return;
    std::istream in(&buffer);
    std::string line;
    std::getline(in, line);
    if (samples != nullptr) samples->push_back(steady_ns() - std::stoll(line));
    ++lines;
    w.m_taken.store(lines, std::memory_order_release);
  }
}

void raw_run(writer& w, std::vector<std::int64_t>* samples, std::int64_t& lines) {
  boost::asio::io_context ioc;
  tcp::socket socket(ioc);
  socket.connect(tcp::endpoint(boost::asio::ip::address_v4::loopback(), w.port()));
  boost::asio::co_spawn(ioc, raw_reader(socket, w, samples, lines), boost::asio::detached);
  ioc.run();
}

void asp_run(writer& w, std::vector<std::int64_t>* samples, std::int64_t& lines) {
  boost::asio::io_context ioc;
  asp::asio::io_context_backend backend(ioc);
  asp::system_clock clock;
  asp::loop loop(clock, backend);
  asp::asio::tcp_client feed(ioc, loop, "127.0.0.1", w.port());
  loop.run({}, asp::process_stream(
                   [&](asp::time_point, const std::string& line) {
                     if (samples != nullptr) samples->push_back(steady_ns() - std::stoll(line));
                     ++lines;
                     w.m_taken.store(lines, std::memory_order_release);
                   },
                   asp::none, feed));
}

template <class Run>
void latency(benchmark::State& state, Run run) {
  std::vector<std::int64_t> samples;
  for (auto _ : state) {
    writer w(latency_samples, true);
    w.start();
    std::int64_t lines = 0;
    run(w, &samples, lines);
  }
  report_latency(state, samples);
}

template <class Run>
void throughput(benchmark::State& state, Run run) {
  for (auto _ : state) {
    writer w(throughput_lines, false);
    w.start();
    std::int64_t lines = 0;
    run(w, nullptr, lines);
    if (lines != throughput_lines) state.SkipWithError("lines were lost");
  }
  state.SetItemsProcessed(state.iterations() * throughput_lines);
}

void BM_Baseline_RawAsioSocketLatency(benchmark::State& state) {
  latency(state, raw_run);
}
BENCHMARK(BM_Baseline_RawAsioSocketLatency)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(3);

void BM_TcpSourceLatency(benchmark::State& state) {
  latency(state, asp_run);
}
BENCHMARK(BM_TcpSourceLatency)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

void BM_Baseline_RawAsioSocketThroughput(benchmark::State& state) {
  throughput(state, raw_run);
}
BENCHMARK(BM_Baseline_RawAsioSocketThroughput)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_TcpSourceThroughput(benchmark::State& state) {
  throughput(state, asp_run);
}
BENCHMARK(BM_TcpSourceThroughput)->Unit(benchmark::kMillisecond)->UseRealTime();

// --- Websocket messages on loopback: ASP's websocket source against a raw Beast client ---

constexpr std::int64_t websocket_messages = 200'000;

// A websocket server thread: accepts one client and sends it `count` small text messages.
struct websocket_writer {
  websocket_writer()
      : m_acceptor(m_ioc, tcp::endpoint(boost::asio::ip::address_v4::loopback(), 0)) {
    m_thread = std::thread([this] {
      namespace websocket = boost::beast::websocket;
      websocket::stream<tcp::socket> ws(m_acceptor.accept());
      ws.accept();
      const std::string message = "{\"symbol\": \"ACME\", \"bid\": 10.21}";
      for (std::int64_t i = 0; i < websocket_messages; ++i) {
        ws.write(boost::asio::buffer(message));
      }
      ws.close(websocket::close_code::normal);
      boost::beast::flat_buffer drain;
      boost::system::error_code ec;
      while (!ec) ws.read(drain, ec);
    });
  }
  ~websocket_writer() { m_thread.join(); }
  std::string url() const {
    return "ws://127.0.0.1:" + std::to_string(m_acceptor.local_endpoint().port()) + "/";
  }
  boost::asio::io_context m_ioc;
  tcp::acceptor m_acceptor;
  std::thread m_thread;
};

// A raw Beast reader over `Stream`: connects, shakes hands and counts messages until the close.
template <class Stream>
boost::asio::awaitable<void> raw_websocket_reader(boost::beast::websocket::stream<Stream> ws,
                                                  std::uint16_t port, std::int64_t& messages) {
  co_await boost::beast::get_lowest_layer(ws).async_connect(
      tcp::endpoint(boost::asio::ip::address_v4::loopback(), port), boost::asio::use_awaitable);
  co_await ws.async_handshake("127.0.0.1", "/", boost::asio::use_awaitable);
  boost::beast::flat_buffer buffer;
  for (;;) {
    auto [ec, n] =
        co_await ws.async_read(buffer, boost::asio::as_tuple(boost::asio::use_awaitable));
    if (ec) co_return;
    buffer.consume(n);
    ++messages;
  }
}

// `make(ioc)` makes the reader's websocket stream.
template <class Make>
void raw_websocket(benchmark::State& state, Make make) {
  for (auto _ : state) {
    websocket_writer w;
    boost::asio::io_context ioc;
    std::int64_t messages = 0;
    boost::asio::co_spawn(
        ioc, raw_websocket_reader(make(ioc), w.m_acceptor.local_endpoint().port(), messages),
        boost::asio::detached);
    ioc.run();
    if (messages != websocket_messages) state.SkipWithError("messages were lost");
  }
  state.SetItemsProcessed(state.iterations() * websocket_messages);
}

// The baseline: Beast's tcp_stream, as Beast's own examples use it.
void BM_Baseline_RawBeastWebsocket(benchmark::State& state) {
  raw_websocket(state, [](boost::asio::io_context& ioc) {
    return boost::beast::websocket::stream<boost::beast::tcp_stream>(ioc);
  });
}
BENCHMARK(BM_Baseline_RawBeastWebsocket)->Unit(benchmark::kMillisecond)->UseRealTime();

// The same reader on a TCP stream of the io_context's own executor type, as ASP's websocket
// source has it: Beast copies a stream's executor several times an operation, and the
// type-erased any_io_executor of beast::tcp_stream makes each copy cost.
void BM_Baseline_RawBeastWebsocketConcreteExecutor(benchmark::State& state) {
  using stream = boost::beast::basic_stream<tcp, boost::asio::io_context::executor_type,
                                            boost::beast::unlimited_rate_policy>;
  raw_websocket(state, [](boost::asio::io_context& ioc) {
    return boost::beast::websocket::stream<stream>(ioc.get_executor());
  });
}
BENCHMARK(BM_Baseline_RawBeastWebsocketConcreteExecutor)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_WebsocketSource(benchmark::State& state) {
  for (auto _ : state) {
    websocket_writer w;
    boost::asio::io_context ioc;
    asp::asio::io_context_backend backend(ioc);
    asp::system_clock clock;
    asp::loop loop(clock, backend);
    asp::asio::websocket_client feed(ioc, loop, w.url(), {.keep_alive = false});
    std::int64_t messages = 0;
    loop.run({}, asp::process_stream([&](asp::time_point, const std::string&) { ++messages; },
                                     asp::none, feed));
    if (messages != websocket_messages) state.SkipWithError("messages were lost");
  }
  state.SetItemsProcessed(state.iterations() * websocket_messages);
}
BENCHMARK(BM_WebsocketSource)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();

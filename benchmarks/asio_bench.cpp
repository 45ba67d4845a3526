// Replay nested in an io_context (asp::asio::host, asp::asio::io_context_backend) against the
// same replay standalone, in the same binary: nesting must not slow replay down.
#include <asp/asio/backend.hpp>
#include <asp/asio/host.hpp>
#include <asp/asp.hpp>

#include <boost/asio/io_context.hpp>

#include <benchmark/benchmark.h>

#include <cstdint>
#include <ranges>
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

}  // namespace

BENCHMARK_MAIN();

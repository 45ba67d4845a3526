// Replaying streams, each next to a plain baseline measured in the same binary.
#include <asp/asp.hpp>

#include <benchmark/benchmark.h>

#include <cstdint>
#include <ranges>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;

const asp::time_point t0 = std::chrono::sys_days{std::chrono::year{2025} / 1 / 1};
const asp::time_point far_future = t0 + std::chrono::days(365 * 100);
constexpr std::int64_t total_events = 10'000'000;

using events = std::vector<asp::event<std::int64_t>>;

// `count` events of `streams` streams, interleaved: stream s ticks at s, s + streams, ... µs.
std::vector<events> make_streams(std::int64_t streams, std::int64_t count) {
  std::vector<events> out(static_cast<std::size_t>(streams));
  for (std::int64_t i = 0; i < count; ++i) {
    out[static_cast<std::size_t>(i % streams)].push_back({t0 + std::chrono::microseconds(i), i});
  }
  return out;
}

void per_event(benchmark::State& state, std::int64_t count) {
  // Seconds per event, printed with an SI prefix: "3.1n" is 3.1 ns.
  state.counters["per_event"] =
      benchmark::Counter(static_cast<double>(count), benchmark::Counter::kIsIterationInvariantRate |
                                                         benchmark::Counter::kInvert);
}

// Baseline: a plain loop over the same events, summing the values after a time check.
void BM_Baseline_PlainLoop(benchmark::State& state) {
  const auto data = make_streams(1, total_events);
  for (auto _ : state) {
    std::int64_t sum = 0;
    asp::time_point last{};
    for (const auto& e : data[0]) {
      if (e.time < last) std::abort();
      last = e.time;
      sum += e.value;
    }
    benchmark::DoNotOptimize(sum);
  }
  per_event(state, total_events);
}
BENCHMARK(BM_Baseline_PlainLoop)->Unit(benchmark::kMillisecond);

// Baseline: merging k sorted vectors with a bare 4-ary heap (asp's own heap, no loop).
void BM_Baseline_HeapMerge(benchmark::State& state) {
  const auto data = make_streams(state.range(0), total_events);
  for (auto _ : state) {
    asp::detail::entry_heap heap;
    std::vector<std::size_t> pos(data.size(), 0);
    std::vector<asp::detail::work_node> nodes(data.size());
    std::uint64_t seq = 1;
    for (std::size_t s = 0; s < data.size(); ++s) {
      nodes[s].m_seq = seq;
      heap.push({data[s][0].time, &nodes[s]});
      ++seq;
    }
    std::int64_t sum = 0;
    while (!heap.empty()) {
      const auto e = heap.pop();
      const auto s = static_cast<std::size_t>(e.node - nodes.data());
      sum += data[s][pos[s]].value;
      if (++pos[s] < data[s].size()) {
        nodes[s].m_seq = seq++;
        heap.push({data[s][pos[s]].time, &nodes[s]});
      }
    }
    benchmark::DoNotOptimize(sum);
  }
  per_event(state, total_events);
}
BENCHMARK(BM_Baseline_HeapMerge)->Arg(8)->Arg(64)->Unit(benchmark::kMillisecond);

// Replays `streams` interleaved streams of `count` events from vectors (viewed, not copied),
// each with the callback `make_callback(sum)` returns.
template <class MakeCallback>
void replay_streams(benchmark::State& state, std::int64_t count, MakeCallback make_callback) {
  const auto data = make_streams(state.range(0), count);
  asp::manual_clock clock(far_future);
  for (auto _ : state) {
    asp::loop loop(clock);
    std::int64_t sum = 0;
    for (const auto& d : data) {
      asp::start(loop, asp::process_stream(make_callback(sum), std::views::all(d))).detach();
    }
    loop.run();
    benchmark::DoNotOptimize(sum);
  }
  per_event(state, count);
}

// k streams with a trivial callback.
void BM_Streams(benchmark::State& state) {
  replay_streams(state, total_events, [](std::int64_t& sum) {
    return [&sum](asp::time_point, std::int64_t v) { sum += v; };
  });
}
BENCHMARK(BM_Streams)->Arg(1)->Arg(8)->Arg(64)->Unit(benchmark::kMillisecond);

// The same with a coroutine callback (awaited by the stream for every event).
void BM_StreamsCoroutineCallback(benchmark::State& state) {
  replay_streams(state, total_events / 10, [](std::int64_t& sum) {
    return [&sum](asp::time_point, std::int64_t v) -> asp::task<void> {
      sum += v;
      co_return;
    };
  });
}
BENCHMARK(BM_StreamsCoroutineCallback)->Arg(1)->Arg(8)->Arg(64)->Unit(benchmark::kMillisecond);

// A lazy generator as the past.
asp::generator<asp::event<std::int64_t>> generate(std::int64_t count) {
  for (std::int64_t i = 0; i < count; ++i) {
    asp::event<std::int64_t> e{t0 + std::chrono::microseconds(i), i};
    co_yield e;
  }
}

void BM_Baseline_GeneratorLoop(benchmark::State& state) {
  for (auto _ : state) {
    std::int64_t sum = 0;
    for (const auto& e : generate(total_events)) sum += e.value;
    benchmark::DoNotOptimize(sum);
  }
  per_event(state, total_events);
}
BENCHMARK(BM_Baseline_GeneratorLoop)->Unit(benchmark::kMillisecond);

void BM_StreamFromGenerator(benchmark::State& state) {
  asp::manual_clock clock(far_future);
  for (auto _ : state) {
    asp::loop loop(clock);
    std::int64_t sum = 0;
    asp::start(loop, asp::process_stream([&sum](asp::time_point, std::int64_t v) { sum += v; },
                                         generate(total_events)))
        .detach();
    loop.run();
    benchmark::DoNotOptimize(sum);
  }
  per_event(state, total_events);
}
BENCHMARK(BM_StreamFromGenerator)->Unit(benchmark::kMillisecond);

// One stream whose past is type-erased (any_past_source over the same vector): the cost of
// choosing a source at run time, against BM_Streams/1.
void BM_StreamFromAnyPastSource(benchmark::State& state) {
  const auto data = make_streams(1, total_events);
  asp::manual_clock clock(far_future);
  for (auto _ : state) {
    asp::loop loop(clock);
    std::int64_t sum = 0;
    asp::any_past_source<asp::event<std::int64_t>> past{std::views::all(data[0])};
    loop.run({}, asp::process_stream([&sum](asp::time_point, std::int64_t v) { sum += v; },
                                     std::move(past)));
    benchmark::DoNotOptimize(sum);
  }
  per_event(state, total_events);
}
BENCHMARK(BM_StreamFromAnyPastSource)->Unit(benchmark::kMillisecond);

// A live source that yields at once (an async generator over the events), typed and erased:
// the erased one pays a coroutine frame and a virtual call per event.
asp::async_generator<asp::event<std::int64_t>> generate_live(std::int64_t count) {
  for (std::int64_t i = 0; i < count; ++i) {
    asp::event<std::int64_t> e{t0 + std::chrono::microseconds(i), i};
    co_yield e;
  }
}

template <class MakeSource>
void replay_live(benchmark::State& state, MakeSource make_source) {
  constexpr std::int64_t count = total_events / 10;
  asp::manual_clock clock(far_future);
  for (auto _ : state) {
    asp::loop loop(clock);
    std::int64_t sum = 0;
    loop.run({}, asp::process_stream([&sum](asp::time_point, std::int64_t v) { sum += v; },
                                     asp::none, make_source(count)));
    benchmark::DoNotOptimize(sum);
  }
  per_event(state, count);
}

void BM_StreamFromAsyncGenerator(benchmark::State& state) {
  replay_live(state, [](std::int64_t count) { return generate_live(count); });
}
BENCHMARK(BM_StreamFromAsyncGenerator)->Unit(benchmark::kMillisecond);

void BM_StreamFromAnyLiveSource(benchmark::State& state) {
  replay_live(state, [](std::int64_t count) {
    return asp::any_live_source<asp::event<std::int64_t>>{generate_live(count)};
  });
}
BENCHMARK(BM_StreamFromAnyLiveSource)->Unit(benchmark::kMillisecond);

// A channel fed by a producer thread (events per second, real time).
void BM_StreamFromChannel(benchmark::State& state) {
  constexpr std::int64_t count = 1'000'000;
  asp::manual_clock clock(t0);
  for (auto _ : state) {
    asp::loop loop(clock);
    asp::channel<std::int64_t> ch(loop, 4096, asp::when_full::block);
    std::int64_t sum = 0;
    std::thread producer([&] {
      for (std::int64_t i = 0; i < count; ++i) ch.push(t0, i);
      ch.close();
    });
    asp::start(loop, asp::process_stream([&sum](asp::time_point, std::int64_t v) { sum += v; },
                                         asp::none, ch))
        .detach();
    loop.run();
    producer.join();
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations() * count);
}
BENCHMARK(BM_StreamFromChannel)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();

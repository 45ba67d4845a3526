// The loop's costs, each next to a plain baseline measured in the same binary.
#include <asp/asp.hpp>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <coroutine>
#include <cstdint>
#include <mutex>
#include <optional>
#include <queue>
#include <random>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;

const asp::time_point t0 = std::chrono::sys_days{std::chrono::year{2025} / 1 / 1};
// Far ahead of every due time: everything replays, nothing waits.
const asp::time_point far_future = t0 + std::chrono::days(365 * 100);

// Random delays in [1, 2N] µs keep about N timers pending in the hold model below.
std::vector<asp::duration> delays(std::size_t pending) {
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<std::int64_t> dist(1, static_cast<std::int64_t>(pending) * 2);
  std::vector<asp::duration> out(1 << 16);
  for (auto& d : out) d = std::chrono::microseconds(dist(rng));
  return out;
}

// Baseline: std::priority_queue push + pop, holding `pending` entries (the hold model).
void BM_Baseline_PriorityQueuePushPop(benchmark::State& state) {
  const auto pending = static_cast<std::size_t>(state.range(0));
  const auto d = delays(pending);
  using item = std::pair<std::int64_t, std::uint64_t>;
  std::priority_queue<item, std::vector<item>, std::greater<>> queue;
  std::uint64_t seq = 0;
  for (std::size_t i = 0; i < pending; ++i) queue.push({d[i & 0xffff].count(), seq++});
  std::size_t i = 0;
  for (auto _ : state) {
    const item top = queue.top();
    queue.pop();
    queue.push({top.first + d[++i & 0xffff].count(), seq++});
  }
}
BENCHMARK(BM_Baseline_PriorityQueuePushPop)->Arg(1000)->Arg(1000000);

// Runs `loop` for the benchmark's iterations, 100 000 pieces of work per run: the work counts
// `budget` down and stops the loop at zero.
void run_in_batches(benchmark::State& state, asp::loop& loop, std::int64_t& budget) {
  constexpr std::int64_t batch = 100000;
  while (state.KeepRunningBatch(batch)) {
    budget = batch;
    loop.run();
  }
}

// call_later + fire with `pending` timers pending: each firing callback arms the next.
struct rearm {
  asp::loop* loop;
  const std::vector<asp::duration>* delays;
  std::size_t* index;
  std::int64_t* budget;
  void operator()() const {
    if (--*budget == 0) loop->stop();
    loop->call_later((*delays)[++*index & 0xffff], *this);
  }
};

void BM_CallLaterAndFire(benchmark::State& state) {
  const auto pending = static_cast<std::size_t>(state.range(0));
  const auto d = delays(pending);
  asp::manual_clock clock(far_future);
  asp::loop loop(clock);
  std::size_t index = 0;
  std::int64_t budget = 0;
  for (std::size_t i = 0; i < pending; ++i)
    loop.call_at(t0 + d[i & 0xffff], rearm{&loop, &d, &index, &budget});
  run_in_batches(state, loop, budget);
}
BENCHMARK(BM_CallLaterAndFire)->Arg(1000)->Arg(1000000);

// Baseline: resuming a bare coroutine that only suspends again.
struct bare_coroutine {
  struct promise_type {
    bare_coroutine get_return_object() {
      return {std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    void return_void() {}
    void unhandled_exception() { std::terminate(); }
  };
  std::coroutine_handle<promise_type> handle;
};

bare_coroutine spin() {
  for (;;) co_await std::suspend_always{};
}

void BM_Baseline_CoroutineResume(benchmark::State& state) {
  bare_coroutine c = spin();
  for (auto _ : state) c.handle.resume();
  c.handle.destroy();
}
BENCHMARK(BM_Baseline_CoroutineResume);

// sleep + resume with `sleepers` coroutines sleeping at once.
void BM_SleepAndResume(benchmark::State& state) {
  const auto sleepers = static_cast<std::size_t>(state.range(0));
  const auto d = delays(sleepers);
  asp::manual_clock clock(far_future);
  asp::loop loop(clock);
  std::int64_t budget = 0;
  std::size_t index = 0;
  auto sleeper = [&](std::size_t first) -> asp::task<void> {
    co_await asp::sleep(d[first & 0xffff]);
    for (;;) {
      if (--budget == 0) asp::current_loop().stop();
      co_await asp::sleep(d[++index & 0xffff]);
    }
  };
  std::vector<asp::join_handle<void>> tasks;
  for (std::size_t i = 0; i < sleepers; ++i) tasks.push_back(asp::spawn(loop, sleeper(i)));
  budget = -1;
  loop.run({.start = t0, .end = t0});  // start them all
  run_in_batches(state, loop, budget);
  for (auto& t : tasks) t.cancel();
}
BENCHMARK(BM_SleepAndResume)->Arg(1)->Arg(1000)->Arg(100000);

// call_soon throughput: a callback that re-arms itself with call_soon.
void BM_CallSoon(benchmark::State& state) {
  asp::manual_clock clock(far_future);
  asp::loop loop(clock);
  std::int64_t budget = 0;
  struct again {
    asp::loop* loop;
    std::int64_t* budget;
    void operator()() const {
      if (--*budget == 0) loop->stop();
      loop->call_soon(*this);
    }
  };
  loop.call_soon(again{&loop, &budget});
  run_in_batches(state, loop, budget);
}
BENCHMARK(BM_CallSoon);

// Baseline for cross-thread hand-off: a mutex-protected vector, one lock per item, drained by
// swapping, as a hand-written queue would do.
// Baseline: a producer thread pushes 1 M integers into a mutex-protected vector, one lock a
// push; the consumer swaps the vector out under the lock and sums it. Cold: new vectors every
// iteration. Warm: the vectors keep their capacity from one iteration to the next.
void mutex_queue_handoff(benchmark::State& state, bool warm) {
  constexpr std::int64_t batch = 1000000;
  std::vector<std::int64_t> kept_queue, kept_taken;
  for (auto _ : state) {
    std::mutex m;
    std::vector<std::int64_t> queue, taken;
    if (warm) {
      queue.swap(kept_queue);
      taken.swap(kept_taken);
    }
    std::atomic<bool> done{false};
    std::int64_t sum = 0, seen = 0;
    std::thread producer([&] {
      for (std::int64_t i = 0; i < batch; ++i) {
        std::lock_guard lock(m);
        queue.push_back(i);
      }
      done = true;
    });
    while (seen < batch) {
      {
        std::lock_guard lock(m);
        taken.swap(queue);
      }
      for (std::int64_t v : taken) sum += v;
      seen += static_cast<std::int64_t>(taken.size());
      taken.clear();
    }
    producer.join();
    benchmark::DoNotOptimize(sum);
    if (warm) {
      kept_queue.swap(queue);
      kept_taken.swap(taken);
    }
  }
  state.SetItemsProcessed(state.iterations() * batch);
}
void BM_Baseline_MutexQueueHandoff(benchmark::State& state) {
  mutex_queue_handoff(state, false);
}
BENCHMARK(BM_Baseline_MutexQueueHandoff)->Unit(benchmark::kMillisecond)->UseRealTime();
void BM_Baseline_MutexQueueHandoffWarm(benchmark::State& state) {
  mutex_queue_handoff(state, true);
}
BENCHMARK(BM_Baseline_MutexQueueHandoffWarm)->Unit(benchmark::kMillisecond)->UseRealTime();

// Runs a loop that takes 1 M posts from a producer thread; `produce(loop, sum)` posts them,
// each adding its number to `sum`. Items per second, real time. Cold: a new loop every
// iteration, so its node pool and queue grow from nothing. Warm: one loop for every iteration,
// as a feed handler's loop lives for the day.
template <class Produce>
void run_posts(benchmark::State& state, bool warm, Produce produce,
               std::chrono::nanoseconds busy_poll = {}) {
  constexpr std::int64_t count = 1000000;
  asp::system_clock clock;
  std::optional<asp::loop> kept;
  if (warm) kept.emplace(clock);
  for (auto _ : state) {
    std::optional<asp::loop> fresh;
    asp::loop& loop = warm ? *kept : fresh.emplace(clock);
    std::int64_t sum = 0;
    asp::work_guard guard = loop.hold();
    std::thread producer([&] {
      produce(loop, sum, count);
      loop.post([&guard] { guard.reset(); });
    });
    loop.run({.busy_poll = busy_poll});
    producer.join();
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations() * count);
}

// post from another thread, one call per item; the loop takes posts in batches as they arrive.
void post_one_at_a_time(asp::loop& loop, std::int64_t& sum, std::int64_t count) {
  for (std::int64_t i = 0; i < count; ++i) loop.post([&sum, i] { sum += i; });
}
void BM_CrossThreadPost(benchmark::State& state) {
  run_posts(state, false, post_one_at_a_time);
}
BENCHMARK(BM_CrossThreadPost)->Unit(benchmark::kMillisecond)->UseRealTime();
void BM_CrossThreadPostWarm(benchmark::State& state) {
  run_posts(state, true, post_one_at_a_time);
}
BENCHMARK(BM_CrossThreadPostWarm)->Unit(benchmark::kMillisecond)->UseRealTime();

// The same, the loop polling for posts for up to 50 µs before it sleeps (run_options::
// busy_poll), as the baseline's consumer polls: a post then costs no system call on either side.
void BM_CrossThreadPostBusyPoll(benchmark::State& state) {
  run_posts(state, false, post_one_at_a_time, std::chrono::microseconds(50));
}
BENCHMARK(BM_CrossThreadPostBusyPoll)->Unit(benchmark::kMillisecond)->UseRealTime();
void BM_CrossThreadPostBusyPollWarm(benchmark::State& state) {
  run_posts(state, true, post_one_at_a_time, std::chrono::microseconds(50));
}
BENCHMARK(BM_CrossThreadPostBusyPollWarm)->Unit(benchmark::kMillisecond)->UseRealTime();

// post_batch from another thread: 64 callables a call, one clock reading.
void post_in_batches(asp::loop& loop, std::int64_t& sum, std::int64_t count) {
  struct add {
    std::int64_t* sum;
    std::int64_t v;
    void operator()() const { *sum += v; }
  };
  std::vector<add> chunk;
  for (std::int64_t i = 0; i < count; i += 64) {
    chunk.clear();
    for (std::int64_t j = i; j < i + 64; ++j) chunk.push_back({&sum, j});
    loop.post_batch(chunk);
  }
}
void BM_CrossThreadPostBatched(benchmark::State& state) {
  run_posts(state, false, post_in_batches);
}
BENCHMARK(BM_CrossThreadPostBatched)->Unit(benchmark::kMillisecond)->UseRealTime();
void BM_CrossThreadPostBatchedWarm(benchmark::State& state) {
  run_posts(state, true, post_in_batches);
}
BENCHMARK(BM_CrossThreadPostBatchedWarm)->Unit(benchmark::kMillisecond)->UseRealTime();

// Wake-up latency: the loop sleeps with nothing to do; another thread posts and the posted
// callback measures how long after the post it ran (steady clock). p50 and p99 of 2000.
void BM_WakeUpLatency(benchmark::State& state) {
  asp::system_clock clock;
  std::vector<double> samples;
  for (auto _ : state) {
    asp::loop loop(clock);
    asp::work_guard guard = loop.hold();
    std::atomic<int> received{0};
    std::thread producer([&] {
      for (int i = 0; i < 2000; ++i) {
        // Let the loop fall asleep before the next post.
        while (received.load() != i) std::this_thread::yield();
        std::this_thread::sleep_for(20us);
        const auto sent = std::chrono::steady_clock::now();
        loop.post([&, sent] {
          samples.push_back(
              std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - sent)
                  .count());
          received.fetch_add(1);
        });
      }
      loop.post([&guard] { guard.reset(); });
    });
    loop.run();
    producer.join();
  }
  std::sort(samples.begin(), samples.end());
  state.counters["p50_ns"] = samples[samples.size() / 2];
  state.counters["p99_ns"] = samples[samples.size() * 99 / 100];
}
BENCHMARK(BM_WakeUpLatency)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

}  // namespace

BENCHMARK_MAIN();

// Replay from a record log, against the floors of the same bytes in the same run: ticks
// (`struct { double price; double qty; }`, 34 bytes a record) over K streams, 1 µs apart, the
// streams taking turns, written with log_writer::write_value, uncompressed or with zstd.
//
// Arguments of every benchmark: N records, K streams, zstd level (0: none). Files are written
// once per (N, K, level) into a temporary directory (ASP_BENCH_DIR to choose it) and removed at
// the end. N = 10^8 only with ASP_BENCH_HUGE set. `rss_mb` is the process's resident set, sampled
// while the benchmark reads. Names say warm (the file in the page cache) or cold (dropped from
// it before each iteration, with POSIX_FADV_DONTNEED: no root needed).
#include <asp/asp.hpp>
#include <asp/data/crc32c.hpp>
#include <asp/data/log.hpp>

#include <benchmark/benchmark.h>
#include <zstd.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "bench_files.hpp"
#include "ticks.hpp"

namespace {

using namespace std::chrono_literals;

using asp::bench::bench_dir;
using asp::bench::tick;

std::string stream_name(std::int64_t k) {
  return asp::bench::tick_stream(k);
}

const std::string& tick_log(std::int64_t n, std::int64_t streams, int zstd_level) {
  static std::map<std::tuple<std::int64_t, std::int64_t, int>, std::string> files;
  std::string& path = files[{n, streams, zstd_level}];
  if (!path.empty()) return path;
  path = bench_dir() + "/ticks-" + std::to_string(n) + "-" + std::to_string(streams) + "-" +
         std::to_string(zstd_level) + ".asplog";
  asp::bench::write_ticks(path, n, streams, {.zstd_level = zstd_level});
  return path;
}

// The process's resident set now, in MB.
double rss_mb() {
  long pages = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    long size = 0;
    if (std::fscanf(f, "%ld %ld", &size, &pages) != 2) pages = 0;
    std::fclose(f);
  }
  return static_cast<double>(pages) * static_cast<double>(::sysconf(_SC_PAGESIZE)) / 1e6;
}

struct rss_probe {
  double peak = 0;
  std::uint64_t count = 0;
  void tick_seen() {
    if ((++count & 0x3FFFF) == 0) peak = std::max(peak, rss_mb());
  }
};

// Drops the file's pages from the page cache (POSIX_FADV_DONTNEED: no root needed for a
// file's clean pages), so that the next read comes from the disk: a cold read (the floor's
// read(2) of the bytes then runs at the disk's speed, which shows it).
bool drop_cache(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool dropped = ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) == 0;
  ::close(fd);
  return dropped;
}

// Pauses the timing while the file is dropped from the cache, for a cold iteration.
void make_cold(benchmark::State& state, const std::string& path) {
  state.PauseTiming();
  if (!drop_cache(path)) state.SkipWithError("cannot drop the file from the page cache");
  state.ResumeTiming();
}

struct args {
  std::int64_t n;
  std::int64_t streams;
  int zstd_level;
  explicit args(const benchmark::State& state)
      : n(state.range(0)), streams(state.range(1)), zstd_level(static_cast<int>(state.range(2))) {}
};

void finish(benchmark::State& state, const args& a, const rss_probe& rss) {
  state.SetItemsProcessed(state.iterations() * a.n);
  state.counters["rss_mb"] = std::max(rss.peak, rss_mb());
}

// --- The floors ---

// read(2) of the file's bytes, 1 MiB at a time.
void BM_Floor_Read(benchmark::State& state, bool cold) {
  const args a(state);
  const std::string& path = tick_log(a.n, a.streams, a.zstd_level);
  std::vector<char> buffer(std::size_t{1} << 20);
  rss_probe rss;
  for (auto _ : state) {
    if (cold) make_cold(state, path);
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    std::uint64_t total = 0;
    for (ssize_t got; (got = ::read(fd, buffer.data(), buffer.size())) > 0;) {
      total += static_cast<std::uint64_t>(got);
    }
    ::close(fd);
    benchmark::DoNotOptimize(total);
  }
  finish(state, a, rss);
}

// Calls `on_record` for each record in `b` (framed as in the file), checking its CRC unless
// `check` is false (the records inside a compressed chunk, which the chunk's CRC covers).
template <class F>
bool walk(const char* b, std::size_t size, bool check, F&& on_record) {
  std::size_t pos = 0;
  while (pos + 8 <= size) {
    std::uint32_t body = 0;
    std::uint32_t crc = 0;
    std::memcpy(&body, b + pos, 4);
    std::memcpy(&crc, b + pos + 4, 4);
    if (pos + 8 + body > size) return true;  // the rest comes with the next block
    if (check && asp::data::crc32c(b + pos + 8, body) != crc) return false;
    on_record(b + pos, body);
    pos += 8 + body;
  }
  return true;
}

// The CRC-checked walk: read(2) in 1 MiB blocks, walk the frames, check every CRC, read each
// record's time and payload; for a compressed log, decompress each chunk and walk its records
// (their times differences, format version 2). No merge, no loop, no decoding beyond a memcpy.
void BM_Floor_CrcWalk(benchmark::State& state, bool cold) {
  const args a(state);
  const std::string& path = tick_log(a.n, a.streams, a.zstd_level);
  rss_probe rss;
  std::unique_ptr<ZSTD_DCtx, decltype(&ZSTD_freeDCtx)> dctx(ZSTD_createDCtx(), &ZSTD_freeDCtx);
  for (auto _ : state) {
    if (cold) make_cold(state, path);
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    std::string buffer(std::size_t{1} << 20, '\0');
    std::string inflated;
    std::size_t have = 0;
    // Skip the header.
    have = static_cast<std::size_t>(::read(fd, buffer.data(), buffer.size()));
    std::size_t start = std::string_view(buffer.data(), have).find("\ncrc: ") + 15;
    double sum = 0;
    std::int64_t count = 0;
    std::uint64_t time = 0;
    bool delta = false;
    auto on_inner = [&](const char* p, std::uint32_t) {
      std::int64_t t = 0;
      tick value{};
      std::memcpy(&t, p + 8, 8);
      time = delta ? time + static_cast<std::uint64_t>(t) : static_cast<std::uint64_t>(t);
      std::memcpy(&value, p + 18, sizeof value);
      sum += value.price + static_cast<double>(time & 7);
      ++count;
      rss.tick_seen();
    };
    auto on_record = [&](const char* p, std::uint32_t body) {
      std::uint16_t stream = 0;
      std::memcpy(&stream, p + 16, 2);
      if (stream != 0xFFFF) return on_inner(p, body);
      std::uint32_t raw = 0;
      std::memcpy(&raw, p + 18 + 12, 4);
      inflated.resize(raw);
      ZSTD_decompressDCtx(dctx.get(), inflated.data(), raw, p + 18 + 16, body - 26);
      delta = true;
      time = 0;
      walk(inflated.data(), raw, false, on_inner);
      delta = false;
    };
    for (;;) {
      std::size_t pos = start;
      // Whole records of the block; the rest moves to the front.
      while (pos + 8 <= have) {
        std::uint32_t body = 0;
        std::memcpy(&body, buffer.data() + pos, 4);
        if (pos + 8 + body > have) break;
        walk(buffer.data() + pos, 8 + body, true, on_record);
        pos += 8 + body;
      }
      std::memmove(buffer.data(), buffer.data() + pos, have - pos);
      have -= pos;
      start = 0;
      if (buffer.size() < have + (std::size_t{1} << 20))
        buffer.resize(have + (std::size_t{1} << 20));
      const ssize_t got = ::read(fd, buffer.data() + have, buffer.size() - have);
      if (got <= 0) break;
      have += static_cast<std::size_t>(got);
    }
    ::close(fd);
    benchmark::DoNotOptimize(sum);
    if (count != a.n) state.SkipWithError("wrong record count");
  }
  finish(state, a, rss);
}

// --- Readers ---

asp::data::log_read_options options_of(const benchmark::State& state) {
  asp::data::log_read_options o;
  o.ahead = state.range(3) == 1 ? asp::data::read_ahead::thread : asp::data::read_ahead::none;
  return o;
}

// log_reader over all streams, walked and decoded, no loop.
void BM_Reader(benchmark::State& state) {
  const args a(state);
  const std::string& path = tick_log(a.n, a.streams, a.zstd_level);
  rss_probe rss;
  for (auto _ : state) {
    asp::data::log_reader reader(path, options_of(state));
    double sum = 0;
    for (const auto& e : reader) {
      sum += asp::data::codec<tick>::decode(e.value.payload).price;
      rss.tick_seen();
    }
    benchmark::DoNotOptimize(sum);
  }
  finish(state, a, rss);
}

asp::loop& fresh_loop(std::optional<asp::manual_clock>& clock, std::optional<asp::loop>& loop) {
  loop.reset();
  clock.emplace(asp::bench::ticks_t0 + 24h * 365);
  return loop.emplace(*clock);
}

// process_stream(cb, log_reader(path)): every stream of the file as one stream of the loop.
void BM_LoopOneStream(benchmark::State& state, bool cold) {
  const args a(state);
  const std::string& path = tick_log(a.n, a.streams, a.zstd_level);
  rss_probe rss;
  std::optional<asp::manual_clock> clock;
  std::optional<asp::loop> loop;
  for (auto _ : state) {
    if (cold) make_cold(state, path);
    double sum = 0;
    fresh_loop(clock, loop)
        .run({}, asp::process_stream(
                     [&](asp::time_point, const asp::data::log_record& r) {
                       sum += asp::data::codec<tick>::decode(r.payload).price;
                       rss.tick_seen();
                     },
                     asp::data::log_reader(path, options_of(state))));
    benchmark::DoNotOptimize(sum);
  }
  finish(state, a, rss);
}

// K process_stream(cb, source(k)), merged by the loop.
template <class MakeSource>
void loop_over_streams(benchmark::State& state, MakeSource make_source, bool cold = false) {
  const args a(state);
  const std::string& path = tick_log(a.n, a.streams, a.zstd_level);
  rss_probe rss;
  std::optional<asp::manual_clock> clock;
  std::optional<asp::loop> loop;
  for (auto _ : state) {
    if (cold) make_cold(state, path);
    double sum = 0;
    asp::loop& l = fresh_loop(clock, loop);
    auto source = make_source(path);
    for (std::int64_t k = 0; k < a.streams; ++k) {
      asp::start(l, asp::process_stream(
                        [&](asp::time_point, const tick& t) {
                          sum += t.price;
                          rss.tick_seen();
                        },
                        source(stream_name(k))))
          .detach();
    }
    l.run();
    benchmark::DoNotOptimize(sum);
  }
  finish(state, a, rss);
}

// K log_source<tick>(path, "Sk"): K readers.
void BM_LoopLogSources(benchmark::State& state) {
  loop_over_streams(state, [&](const std::string& path) {
    return [&state, path](const std::string& name) {
      return asp::data::log_source<tick>(path, name, options_of(state));
    };
  });
}

// K file.source<tick>("Sk") of one log_file: one scan.
void BM_LoopSharedSources(benchmark::State& state, bool cold) {
  loop_over_streams(
      state,
      [&](const std::string& path) {
        return [file = std::make_shared<asp::data::log_file>(path, options_of(state))](
                   const std::string& name) { return file->source<tick>(name); };
      },
      cold);
}

// N, K, zstd level (and for the readers: read-ahead 0 none, 1 thread).
// 10^6 and 10^7 records; 10^8 too (3.4 GB a file) with ASP_BENCH_HUGE set.
std::vector<std::int64_t> sizes() {
  std::vector<std::int64_t> n{1'000'000, 10'000'000};
  if (std::getenv("ASP_BENCH_HUGE") != nullptr) n.push_back(100'000'000);
  return n;
}

void floors(benchmark::internal::Benchmark* b) {
  for (const std::int64_t n : sizes()) {
    for (const std::int64_t k : {1, 4, 64}) {
      for (const std::int64_t z : {0, 3}) b->Args({n, k, z});
    }
  }
  b->Unit(benchmark::kMillisecond)->UseRealTime();
}
void readers(benchmark::internal::Benchmark* b) {
  for (const std::int64_t n : sizes()) {
    for (const std::int64_t k : {1, 4, 64}) {
      for (const std::int64_t z : {0, 3}) {
        for (const std::int64_t ahead : {0, 1}) b->Args({n, k, z, ahead});
      }
    }
  }
  b->Unit(benchmark::kMillisecond)->UseRealTime();
}

// Warm: the file in the page cache (every benchmark writes it, then reads it again and again).
BENCHMARK_CAPTURE(BM_Floor_Read, warm, false)->Apply(floors);
BENCHMARK_CAPTURE(BM_Floor_CrcWalk, warm, false)->Apply(floors);
BENCHMARK(BM_Reader)->Apply(readers);
BENCHMARK_CAPTURE(BM_LoopOneStream, warm, false)->Apply(readers);
BENCHMARK(BM_LoopLogSources)->Apply(readers);
BENCHMARK_CAPTURE(BM_LoopSharedSources, warm, false)->Apply(readers);
// Cold: each iteration from the disk (the file dropped from the page cache first).
BENCHMARK_CAPTURE(BM_Floor_Read, cold, true)->Apply(floors);
BENCHMARK_CAPTURE(BM_Floor_CrcWalk, cold, true)->Apply(floors);
BENCHMARK_CAPTURE(BM_LoopOneStream, cold, true)->Apply(readers);
BENCHMARK_CAPTURE(BM_LoopSharedSources, cold, true)->Apply(readers);

}  // namespace

int main(int argc, char** argv) {
  return asp::bench::run_benchmarks(argc, argv);
}

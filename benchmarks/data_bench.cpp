// asp::data: CSV rows and record-log events per second, each against a plain loop doing the
// same work in the same binary (BENCHMARKS.md records the figures).
#include <asp/asp.hpp>
#include <asp/data/crc32c.hpp>
#include <asp/data/csv.hpp>
#include <asp/data/log.hpp>
#include <asp/data/table.hpp>

#include <benchmark/benchmark.h>
#include <fast_float/fast_float.h>

#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <tuple>

#include "bench_files.hpp"

namespace {

using namespace std::chrono_literals;

constexpr std::int64_t rows = 1'000'000;
const asp::time_point t0 = std::chrono::sys_days{std::chrono::year{2025} / 1 / 1};

using asp::bench::bench_dir;

// (time, double, double, int64) rows; times as epoch nanoseconds or ISO 8601.
const std::string& csv_file(bool iso) {
  static std::string paths[2];
  std::string& path = paths[iso ? 1 : 0];
  if (!path.empty()) return path;
  path = bench_dir() + (iso ? "/rows_iso.csv" : "/rows_ns.csv");
  std::ofstream out(path);
  out << "time,bid,ask,size\n";
  char line[128];
  for (std::int64_t i = 0; i < rows; ++i) {
    const asp::time_point t = t0 + std::chrono::microseconds(i * 1237);
    const double bid = 100.0 + static_cast<double>(i % 1000) * 0.01;
    if (iso) {
      std::snprintf(line, sizeof line, "%s,%.2f,%.2f,%lld\n", asp::to_string(t).c_str(), bid,
                    bid + 0.02, static_cast<long long>(i % 5000));
    } else {
      std::snprintf(line, sizeof line, "%lld,%.2f,%.2f,%lld\n",
                    static_cast<long long>(t.time_since_epoch().count()), bid, bid + 0.02,
                    static_cast<long long>(i % 5000));
    }
    out << line;
  }
  return path;
}

// The baseline: split each line at commas and parse with from_chars and fast_float only.
// Each iteration maps the file, as each reader does.
void BM_Baseline_CsvSplitAndParse(benchmark::State& state) {
  for (auto _ : state) {
    const asp::data::mapped_file file(csv_file(false));
    const std::string_view b = file.bytes();
    std::size_t pos = b.find('\n') + 1;
    double sum = 0;
    std::int64_t count = 0;
    while (pos < b.size()) {
      const char* p = b.data() + pos;
      const char* end = b.data() + b.size();
      std::int64_t ns = 0, size = 0;
      double bid = 0, ask = 0;
      p = std::from_chars(p, end, ns).ptr + 1;
      p = fast_float::from_chars(p, end, bid).ptr + 1;
      p = fast_float::from_chars(p, end, ask).ptr + 1;
      p = std::from_chars(p, end, size).ptr + 1;
      sum += bid + ask + static_cast<double>(size + ns % 7);
      ++count;
      pos = static_cast<std::size_t>(p - b.data());
    }
    benchmark::DoNotOptimize(sum);
    if (count != rows) state.SkipWithError("wrong row count");
  }
  state.SetItemsProcessed(state.iterations() * rows);
}
BENCHMARK(BM_Baseline_CsvSplitAndParse)->Unit(benchmark::kMillisecond);

void BM_CsvSource(benchmark::State& state) {
  const std::string& path = csv_file(false);
  for (auto _ : state) {
    auto source = asp::data::read_csv_tuple<double, double, std::int64_t>(
        path, {"bid", "ask", "size"}, {.times = asp::data::time_format::epoch_nanos});
    double sum = 0;
    for (const auto& e : source) {
      const auto& [bid, ask, size] = e.value;
      sum += bid + ask + static_cast<double>(size + e.time.time_since_epoch().count() % 7);
    }
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations() * rows);
}
BENCHMARK(BM_CsvSource)->Unit(benchmark::kMillisecond);

void BM_CsvSourceIsoTimes(benchmark::State& state) {
  const std::string& path = csv_file(true);
  for (auto _ : state) {
    auto source =
        asp::data::read_csv_tuple<double, double, std::int64_t>(path, {"bid", "ask", "size"});
    double sum = 0;
    for (const auto& e : source) sum += std::get<0>(e.value);
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations() * rows);
}
BENCHMARK(BM_CsvSourceIsoTimes)->Unit(benchmark::kMillisecond);

// The same file as a table (what the asp tool reads): each row encoded under the schema
// inferred from the first rows, bid:f64,ask:f64,size:i64, 24 bytes a row.
void BM_CsvTable(benchmark::State& state) {
  const std::string& path = csv_file(false);
  for (auto _ : state) {
    asp::data::csv_table table(path, {.csv = {.times = asp::data::time_format::epoch_nanos}});
    std::size_t bytes = 0;
    for (const auto& e : table) bytes += e.value.size();
    benchmark::DoNotOptimize(bytes);
    if (bytes != static_cast<std::size_t>(rows) * 24) state.SkipWithError("wrong payloads");
  }
  state.SetItemsProcessed(state.iterations() * rows);
}
BENCHMARK(BM_CsvTable)->Unit(benchmark::kMillisecond);

// End to end: the file as a stream's past, each row a callback on the loop.
void BM_CsvIntoStreamCallback(benchmark::State& state) {
  const std::string& path = csv_file(false);
  for (auto _ : state) {
    asp::manual_clock clock(t0 + 24h * 365);
    asp::loop loop(clock);
    double sum = 0;
    loop.run(
        {}, asp::process_stream(
                [&sum](asp::time_point, double bid, double ask, std::int64_t size) {
                  sum += bid + ask + static_cast<double>(size);
                },
                asp::data::read_csv_tuple<double, double, std::int64_t>(
                    path, {"bid", "ask", "size"}, {.times = asp::data::time_format::epoch_nanos})));
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations() * rows);
}
BENCHMARK(BM_CsvIntoStreamCallback)->Unit(benchmark::kMillisecond);

// ---------------------------------------------------------------------------------------------
// The record log: 16-byte payloads.

struct tick {
  double price;
  std::int64_t size;
};

// The baseline: write(2) of the same bytes (framed records), 64 KiB at a time.
void BM_Baseline_WriteSameBytes(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  const std::string path = bench_dir() + "/baseline.bin";
  std::string record(8 + 10 + sizeof(tick), 'r');
  for (auto _ : state) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    std::string buffer;
    for (std::int64_t i = 0; i < n; ++i) {
      buffer += record;
      if (buffer.size() >= 65536) {
        if (::write(fd, buffer.data(), buffer.size()) < 0) state.SkipWithError("write");
        buffer.clear();
      }
    }
    if (::write(fd, buffer.data(), buffer.size()) < 0) state.SkipWithError("write");
    ::fdatasync(fd);
    ::close(fd);
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_Baseline_WriteSameBytes)->Arg(1'000'000)->UseRealTime()->Unit(benchmark::kMillisecond);

// Arg 0: the record count; arg 1: fsync every that many records (0: on close only).
void BM_LogWrite(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  const auto every = static_cast<std::size_t>(state.range(1));
  const std::string path = bench_dir() + "/write.asplog";
  for (auto _ : state) {
    asp::data::log_writer w(path, {{"ticks"}},
                            {.fsync = {.every_records = every}, .overwrite = true});
    for (std::int64_t i = 0; i < n; ++i) {
      w.write_value(0, t0 + std::chrono::microseconds(i), tick{1.0 + static_cast<double>(i), i});
    }
    w.close();
  }
  state.SetItemsProcessed(state.iterations() * n);
}
// Real time: fsync waits are the point.
BENCHMARK(BM_LogWrite)
    ->Args({1'000'000, 0})
    ->Args({1'000'000, 1000})
    ->Args({2'000, 1})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

const std::string& log_file() {
  static const std::string path = [] {
    const std::string p = bench_dir() + "/read.asplog";
    asp::data::log_writer w(p, {{"ticks"}});
    for (std::int64_t i = 0; i < rows; ++i) {
      w.write_value(0, t0 + std::chrono::microseconds(i), tick{1.0 + static_cast<double>(i), i});
    }
    return p;
  }();
  return path;
}

// The baseline: map the file, walk its frames and read each record's time and payload — with
// no checksum, no merge and no seeking; or checking each record's CRC-32C, the integrity every
// reader pays for.
template <bool check_crc>
void BM_Baseline_LogScan(benchmark::State& state) {
  for (auto _ : state) {
    const asp::data::mapped_file file(log_file());
    const std::string_view b = file.bytes();
    std::size_t pos = b.find("\ncrc: ") + 15;
    double sum = 0;
    std::int64_t count = 0;
    while (pos + 8 <= b.size()) {
      std::uint32_t size = 0;
      std::memcpy(&size, b.data() + pos, 4);
      if constexpr (check_crc) {
        std::uint32_t crc = 0;
        std::memcpy(&crc, b.data() + pos + 4, 4);
        if (asp::data::crc32c(b.data() + pos + 8, size) != crc) state.SkipWithError("bad CRC");
      }
      std::int64_t t = 0;
      tick value{};
      std::memcpy(&t, b.data() + pos + 8, 8);
      std::memcpy(&value, b.data() + pos + 18, sizeof value);
      sum += value.price + static_cast<double>(t % 7);
      pos += 8 + size;
      ++count;
    }
    benchmark::DoNotOptimize(sum);
    if (count != rows) state.SkipWithError("wrong record count");
  }
  state.SetItemsProcessed(state.iterations() * rows);
}
BENCHMARK(BM_Baseline_LogScan<false>)->Name("BM_Baseline_LogScan")->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Baseline_LogScan<true>)
    ->Name("BM_Baseline_LogScanWithCrc")
    ->Unit(benchmark::kMillisecond);

void BM_LogSource(benchmark::State& state) {
  const std::string& path = log_file();
  for (auto _ : state) {
    asp::data::log_source<tick> source(path, "ticks");
    double sum = 0;
    for (const auto& e : source)
      sum += e.value.price + static_cast<double>(e.time.time_since_epoch().count() % 7);
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations() * rows);
}
BENCHMARK(BM_LogSource)->Unit(benchmark::kMillisecond);

void BM_LogIntoStreamCallback(benchmark::State& state) {
  const std::string& path = log_file();
  for (auto _ : state) {
    asp::manual_clock clock(t0 + 24h * 365);
    asp::loop loop(clock);
    double sum = 0;
    loop.run({}, asp::process_stream([&sum](asp::time_point, const tick& t) { sum += t.price; },
                                     asp::data::log_source<tick>(path, "ticks")));
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations() * rows);
}
BENCHMARK(BM_LogIntoStreamCallback)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  return asp::bench::run_benchmarks(argc, argv);
}

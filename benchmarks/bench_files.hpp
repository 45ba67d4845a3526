#pragma once

// What the benchmarks that read files share: one temporary directory per run (under
// ASP_BENCH_DIR when it is set, the system's temporary directory otherwise), removed when the
// benchmarks are done.

#include <benchmark/benchmark.h>

#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

namespace asp::bench {

/// This run's directory, made at the first call.
inline const std::string& bench_dir() {
  static const std::string dir = [] {
    const char* base = std::getenv("ASP_BENCH_DIR");
    std::string pattern =
        (base != nullptr ? std::filesystem::path(base) : std::filesystem::temp_directory_path()) /
        "asp-bench-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) std::abort();
    return pattern;
  }();
  return dir;
}

/// Google Benchmark's main, then the directory removed.
inline int run_benchmarks(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  std::error_code ignored;
  std::filesystem::remove_all(bench_dir(), ignored);
  return 0;
}

}  // namespace asp::bench

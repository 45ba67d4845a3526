// Writes the benchmarks' ticks (ticks.hpp) for runs made by hand, and says what it wrote:
//
//   make_ticks OUT N [STREAMS [ZSTD_LEVEL [SPLIT_BYTES]]]   a record log (a dataset with
//                                                             SPLIT_BYTES: OUT is a directory)
//   make_ticks --csv OUT N [STREAMS]                          the same ticks as CSV
//
// The CSV has the columns time (ISO 8601, microseconds), stream, price and qty, as
// `asp convert` reads them; its size next to the log's is what BENCHMARKS.md compares.
#include <asp/data/log.hpp>
#include <asp/time.hpp>

#include <sys/resource.h>

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "ticks.hpp"

namespace {

std::int64_t number(const char* text, const char* what) {
  char* end = nullptr;
  const long long n = std::strtoll(text, &end, 10);
  if (end == text || *end != '\0' || n < 0) {
    std::fprintf(stderr, "make_ticks: %s: expected a number, found '%s'\n", what, text);
    std::exit(2);
  }
  return n;
}

std::uintmax_t size_of(const std::string& path) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(path)) return fs::file_size(path);
  std::uintmax_t total = 0;
  for (const auto& e : fs::directory_iterator(path)) {
    if (e.path().extension() == ".asplog") total += e.file_size();
  }
  return total;
}

void write_csv(const std::string& path, std::int64_t n, std::int64_t streams) {
  std::FILE* out = std::fopen(path.c_str(), "wb");
  if (out == nullptr) {
    std::perror(path.c_str());
    std::exit(1);
  }
  std::fputs("time,stream,price,qty\n", out);
  for (std::int64_t i = 0; i < n; ++i) {
    const asp::bench::tick t = asp::bench::tick_value(i);
    // Microseconds: the ticks' resolution.
    const std::string time = asp::to_string(asp::bench::tick_time(i));  // ...:SS.nnnnnnnnnZ
    std::fprintf(out, "%.*sZ,S%" PRId64 ",%.2f,%.0f\n", static_cast<int>(time.size() - 4),
                 time.c_str(), i % streams, t.price, t.qty);
  }
  if (std::fclose(out) != 0) {
    std::perror(path.c_str());
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const bool csv = argc > 1 && std::strcmp(argv[1], "--csv") == 0;
  const int first = csv ? 2 : 1;
  if (argc - first < 2) {
    std::fprintf(stderr,
                 "usage: make_ticks OUT N [STREAMS [ZSTD_LEVEL [SPLIT_BYTES]]]\n"
                 "       make_ticks --csv OUT N [STREAMS]\n");
    return 2;
  }
  const std::string out = argv[first];
  const std::int64_t n = number(argv[first + 1], "N");
  const std::int64_t streams = argc > first + 2 ? number(argv[first + 2], "STREAMS") : 1;
  const int zstd = argc > first + 3 ? static_cast<int>(number(argv[first + 3], "ZSTD_LEVEL")) : 0;
  const std::int64_t split = argc > first + 4 ? number(argv[first + 4], "SPLIT_BYTES") : 0;
  if (streams < 1 || streams > 65535) {
    std::fprintf(stderr, "make_ticks: STREAMS must be 1 to 65535\n");
    return 2;
  }
  const auto began = std::chrono::steady_clock::now();
  if (csv) {
    write_csv(out, n, streams);
  } else {
    asp::bench::write_ticks(out, n, streams,
                            {.overwrite = true,
                             .zstd_level = zstd,
                             .split = {.bytes = static_cast<std::uint64_t>(split)}});
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  const std::uintmax_t bytes = size_of(out);
  std::printf("%s: %" PRId64 " ticks over %" PRId64
              " streams, %ju bytes (%.2f bytes a record), "
              "written in %.1f s\n",
              out.c_str(), n, streams, bytes,
              n > 0 ? static_cast<double>(bytes) / static_cast<double>(n) : 0.0, seconds);
  return 0;
}

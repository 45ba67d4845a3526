// Replays a log (or a dataset) of the benchmarks' ticks (ticks.hpp, as make_ticks writes
// them) through the loop, every stream a typed source of one log_file, into callbacks that sum
// the prices; then says how long it took. For runs made by hand, on files too large for a
// benchmark's repetitions (BENCHMARKS.md: the 10^9 run):
//
//   replay_file PATH [--ahead none|thread]   where reading, checks and decompression run
//                                            (default: the library's, read_ahead::automatic)
#include <asp/asp.hpp>
#include <asp/data/log.hpp>

#include <sys/resource.h>

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "ticks.hpp"

int main(int argc, char** argv) {
  asp::data::read_ahead ahead = asp::data::read_ahead::automatic;
  if (argc == 4 && std::strcmp(argv[2], "--ahead") == 0 && std::strcmp(argv[3], "none") == 0) {
    ahead = asp::data::read_ahead::none;
  } else if (argc == 4 && std::strcmp(argv[2], "--ahead") == 0 &&
             std::strcmp(argv[3], "thread") == 0) {
    ahead = asp::data::read_ahead::thread;
  } else if (argc != 2) {
    std::fprintf(stderr, "usage: replay_file PATH [--ahead none|thread]\n");
    return 2;
  }
  const auto began = std::chrono::steady_clock::now();
  try {
    asp::data::log_file file(argv[1], {.ahead = ahead});
    // The real clock, as a backtest runs: every record (2025) is the past.
    asp::loop loop;
    double sum = 0;
    std::uint64_t count = 0;
    std::vector<asp::stream_handle> streams;
    for (const asp::data::log_stream& s : file.streams()) {
      streams.push_back(asp::start(loop, asp::process_stream(
                                             [&](asp::time_point, const asp::bench::tick& t) {
                                               sum += t.price;
                                               ++count;
                                             },
                                             file.source<asp::bench::tick>(s.name))));
    }
    loop.run();
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    std::printf("%s: %" PRIu64
                " records over %zu streams in %.2f s: %.1f ns a record, "
                "%.1f M records/s; peak RSS %.0f MB; sum %.2f\n",
                argv[1], count, file.streams().size(), seconds,
                count > 0 ? seconds * 1e9 / static_cast<double>(count) : 0.0,
                static_cast<double>(count) / seconds / 1e6,
                static_cast<double>(usage.ru_maxrss) / 1024.0, sum);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "replay_file: %s\n", e.what());
    return 1;
  }
  return 0;
}

#pragma once

#include <cstdint>

namespace asp {

/// Counters that tests and benchmarks read to prove what a loop did (not timing):
/// `loop::stats()`.
struct loop_stats {
  std::uint64_t runs = 0;   ///< pieces of work run
  std::uint64_t waits = 0;  ///< times the loop waited on the real clock or for input
  std::uint64_t posts = 0;  ///< pieces of work posted from other threads, taken in
};

}  // namespace asp

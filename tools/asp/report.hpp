#pragma once

// The page that `asp inspect FILE --html OUT` writes: one self-contained HTML file (inline
// SVG; no script, font or image from anywhere else) that shows, per stream, the event rate
// over the file's range, the gaps and the out-of-order events, and for each column asked with
// --plot its values over time.

#include "timeline.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace asp::tool {

/// A numeric column of a table stream to plot, and its place in the timeline's series.
struct plotted_column {
  std::size_t stream = 0;
  std::size_t column = 0;  // among the stream's value columns
  std::string name;        // as the user named it
};

/// What the page says beside the pictures.
struct report_facts {
  std::string file;
  std::string kind;  // "record log", "dataset of 3 record logs", "CSV file"
  std::uint64_t bytes = 0;
  std::vector<std::string> streams;       // names, by id
  std::vector<std::uint64_t> counts;      // events, by stream
  std::vector<std::uint64_t> disordered;  // out-of-order events, by stream
};

/// Writes the page to `path`; throws std::runtime_error when it cannot.
void write_report(const std::string& path, const report_facts& facts, const timeline& rates,
                  const std::vector<plotted_column>& plots);

}  // namespace asp::tool

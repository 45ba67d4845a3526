#pragma once

// The event-rate timeline that `asp inspect` draws on a terminal: one sparkline a stream over
// the file's time range, with the gaps longer than a threshold marked under it.

#include <asp/time.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace asp::tool {

/// Counts of K streams' events in at most `columns` columns of equal width, in one pass over
/// events whose range is not known beforehand: the columns start at the first event's time,
/// one nanosecond wide, and whenever an event falls past the last column their width doubles
/// (neighbours merged), so that a column is never more than twice as wide as the range needs.
/// An event earlier than the first (out of order) counts in the first column.
class timeline {
 public:
  /// `range`: the events' earliest and latest times when known beforehand (a log's index);
  /// the columns then start there, with a round width (1, 2 or 5 times a power of ten of ns,
  /// or whole seconds, minutes, hours or days) that fits the range in `columns`.
  timeline(std::size_t streams, std::size_t columns, duration gap,
           std::optional<std::pair<time_point, time_point>> range = std::nullopt);

  /// Counts an event of `stream` at `t`, and the gap before it when it is `gap` or longer.
  void add(std::size_t stream, time_point t);

  /// The lines to print: a header with the range and the width of a column, then per stream
  /// its name, its sparkline (U+2581..U+2588, scaled to the stream's busiest column, which is
  /// labelled in events/s) and, when it has gaps, a line that marks them; nothing when no
  /// event was added.
  std::vector<std::string> lines(const std::vector<std::string>& names) const;

 private:
  struct lane {
    std::vector<std::uint64_t> counts;
    bool seen = false;
    time_point last{};
    std::vector<std::pair<time_point, time_point>> gaps;  // the first ones, at most max_gaps
    std::uint64_t gap_count = 0;
  };
  static constexpr std::size_t max_gaps = 4096;

  std::size_t column_of(time_point t) const noexcept;

  std::size_t m_columns;
  duration m_gap;
  bool m_started = false;
  time_point m_origin{};
  time_point m_latest{};
  std::int64_t m_width = 1;  // ns a column
  std::vector<lane> m_lanes;
};

}  // namespace asp::tool

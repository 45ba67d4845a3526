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
  /// or whole seconds, minutes, hours or days) that fits the range in `columns`. `series`: how
  /// many value series (plotted columns) to keep, each per column its least, greatest and last
  /// value.
  timeline(std::size_t streams, std::size_t columns, duration gap,
           std::optional<std::pair<time_point, time_point>> range = std::nullopt,
           std::size_t series = 0);

  /// Counts an event of `stream` at `t`; the gap before it when it is `gap` or longer; and
  /// whether it is out of order (earlier than the stream's latest so far).
  void add(std::size_t stream, time_point t);
  /// A value of series `k` at `t`, after add() of its event.
  void add_value(std::size_t k, time_point t, double value);

  /// The lines to print: a header with the range and the width of a column, then per stream
  /// its name, its sparkline (U+2581..U+2588, scaled to the stream's busiest column, which is
  /// labelled in events/s) and, when it has gaps, a line that marks them; nothing when no
  /// event was added.
  std::vector<std::string> lines(const std::vector<std::string>& names) const;

  /// What a stream did, per column.
  struct lane {
    std::vector<std::uint64_t> counts;
    std::vector<std::uint64_t> disorder;  // events out of order
    bool seen = false;
    time_point last{};
    std::vector<std::pair<time_point, time_point>> gaps;  // the first ones, at most max_gaps
    std::uint64_t gap_count = 0;
  };
  /// A value series' column: its least, greatest and last (latest in time) value.
  struct cell {
    bool any = false;
    double least = 0;
    double greatest = 0;
    double last = 0;
    time_point last_time{};
  };
  static constexpr std::size_t max_gaps = 4096;

  bool started() const noexcept { return m_started; }
  time_point origin() const noexcept { return m_origin; }
  time_point latest() const noexcept { return m_latest; }
  /// The earliest event added (the origin when none was).
  time_point earliest() const noexcept { return m_earliest.value_or(m_origin); }
  duration width() const noexcept { return duration{m_width}; }
  /// Columns up to the one of the latest event.
  std::size_t used() const noexcept { return m_started ? column_of(m_latest) + 1 : 0; }
  const lane& stream(std::size_t s) const { return m_lanes.at(s); }
  const std::vector<cell>& series(std::size_t k) const { return m_series.at(k); }
  duration gap() const noexcept { return m_gap; }

 private:
  std::size_t column_of(time_point t) const noexcept;
  void widen();

  std::size_t m_columns;
  duration m_gap;
  bool m_started = false;
  time_point m_origin{};
  time_point m_latest{};
  std::optional<time_point> m_earliest;  // of the events added
  std::int64_t m_width = 1;              // ns a column
  std::vector<lane> m_lanes;
  std::vector<std::vector<cell>> m_series;
};

}  // namespace asp::tool

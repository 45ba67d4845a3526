#include "timeline.hpp"

#include "tool.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace asp::tool {

namespace {

// U+2581 (lower one eighth block) .. U+2588 (full block), in UTF-8.
const char* const blocks[] = {"\u2581", "\u2582", "\u2583", "\u2584",
                              "\u2585", "\u2586", "\u2587", "\u2588"};

std::string short_time(time_point t) {
  return asp::to_string(t);
}

// Round column widths in ns, increasing: 1, 2, 5 times the powers of ten below a second, then
// seconds, minutes, hours and days that divide their next unit.
std::vector<std::uint64_t> round_widths() {
  std::vector<std::uint64_t> out;
  for (std::uint64_t p = 1; p < 1'000'000'000; p *= 10) {
    for (const std::uint64_t m : {1U, 2U, 5U}) out.push_back(m * p);
  }
  constexpr std::uint64_t s = 1'000'000'000;
  for (const std::uint64_t n : {1U, 2U, 5U, 10U, 15U, 20U, 30U}) out.push_back(n * s);
  for (const std::uint64_t n : {1U, 2U, 5U, 10U, 15U, 20U, 30U}) out.push_back(n * 60 * s);
  for (const std::uint64_t n : {1U, 2U, 3U, 6U, 12U}) out.push_back(n * 3600 * s);
  for (std::uint64_t d = 1; d <= 1'000'000; d *= 2) out.push_back(d * 86400 * s);
  return out;
}

}  // namespace

timeline::timeline(std::size_t streams, std::size_t columns, duration gap,
                   std::optional<std::pair<time_point, time_point>> range, std::size_t series)
    : m_columns(std::max<std::size_t>(columns, 4)),
      m_gap(gap),
      m_lanes(streams),
      m_series(series, std::vector<cell>(m_columns)) {
  for (lane& l : m_lanes) {
    l.counts.assign(m_columns, 0);
    l.disorder.assign(m_columns, 0);
  }
  if (!range || range->second < range->first) return;
  const std::uint64_t span = static_cast<std::uint64_t>(range->second.time_since_epoch().count()) -
                             static_cast<std::uint64_t>(range->first.time_since_epoch().count()) +
                             1;
  // One column fewer than there are: the first column starts up to a width before the range.
  const std::uint64_t least = (span + m_columns - 2) / (m_columns - 1);
  m_width = std::numeric_limits<std::int64_t>::max();
  for (const std::uint64_t unit : round_widths()) {
    if (unit >= least) {
      m_width = static_cast<std::int64_t>(unit);
      break;
    }
  }
  // The first column starts at a multiple of the width (the axis's labels are round too).
  const std::int64_t first = range->first.time_since_epoch().count();
  std::int64_t aligned = first / m_width * m_width;
  if (aligned > first) aligned -= m_width;  // before the epoch: down, not toward zero
  m_started = true;
  m_origin = time_point{duration{aligned}};
  m_latest = range->first;
}

std::size_t timeline::column_of(time_point t) const noexcept {
  if (t <= m_origin) return 0;
  // t - origin without overflow: the difference of two 64-bit counts fits in 64 bits unsigned.
  const std::uint64_t offset = static_cast<std::uint64_t>(t.time_since_epoch().count()) -
                               static_cast<std::uint64_t>(m_origin.time_since_epoch().count());
  return static_cast<std::size_t>(offset / static_cast<std::uint64_t>(m_width));
}

// Twice as wide: column i takes what columns 2i and 2i + 1 held.
void timeline::widen() {
  m_width *= 2;
  const auto pair = [&](std::size_t i) { return std::pair{2 * i, 2 * i + 1}; };
  for (lane& l : m_lanes) {
    for (std::vector<std::uint64_t>* v : {&l.counts, &l.disorder}) {
      for (std::size_t i = 0; i < m_columns; ++i) {
        const auto [a, b] = pair(i);
        (*v)[i] = (a < m_columns ? (*v)[a] : 0) + (b < m_columns ? (*v)[b] : 0);
      }
    }
  }
  for (std::vector<cell>& cells : m_series) {
    for (std::size_t i = 0; i < m_columns; ++i) {
      const auto [a, b] = pair(i);
      cell merged;
      for (const std::size_t k : {a, b}) {
        if (k >= m_columns || !cells[k].any) continue;
        const cell& c = cells[k];
        if (!merged.any) {
          merged = c;
          continue;
        }
        merged.least = std::min(merged.least, c.least);
        merged.greatest = std::max(merged.greatest, c.greatest);
        if (c.last_time >= merged.last_time) {
          merged.last = c.last;
          merged.last_time = c.last_time;
        }
      }
      cells[i] = merged;
    }
  }
}

void timeline::add(std::size_t stream, time_point t) {
  if (!m_started) {
    m_started = true;
    m_origin = t;
    m_latest = t;
  }
  m_latest = std::max(m_latest, t);
  m_earliest = m_earliest ? std::min(*m_earliest, t) : t;
  while (column_of(t) >= m_columns) widen();
  lane& l = m_lanes[stream];
  const std::size_t column = column_of(t);
  ++l.counts[column];
  if (l.seen && t < l.last) ++l.disorder[column];
  if (l.seen && m_gap > duration::zero() && t > l.last && t - l.last >= m_gap) {
    if (l.gaps.size() < max_gaps) l.gaps.emplace_back(l.last, t);
    ++l.gap_count;
  }
  if (!l.seen || t > l.last) l.last = t;
  l.seen = true;
}

void timeline::add_value(std::size_t k, time_point t, double value) {
  // A missing value (NaN) or an infinity has no place on the axis: the column shows the rest.
  if (!std::isfinite(value)) return;
  cell& c = m_series[k][column_of(t)];
  if (!c.any) {
    c = {true, value, value, value, t};
    return;
  }
  c.least = std::min(c.least, value);
  c.greatest = std::max(c.greatest, value);
  if (t >= c.last_time) {
    c.last = value;
    c.last_time = t;
  }
}

std::vector<std::string> timeline::lines(const std::vector<std::string>& names) const {
  std::vector<std::string> out;
  if (!m_started) return out;
  const std::size_t used = this->used();
  const duration width{m_width};
  out.push_back(fmt::format("timeline: {} .. {}, {} a column", short_time(earliest()),
                            short_time(m_latest), human(width)));
  std::size_t name_width = 0;
  for (const std::string& n : names) name_width = std::max(name_width, n.size());
  const double column_seconds = std::chrono::duration<double>(width).count();
  for (std::size_t s = 0; s < m_lanes.size(); ++s) {
    const lane& l = m_lanes[s];
    const std::uint64_t peak =
        *std::max_element(l.counts.begin(), l.counts.begin() + static_cast<std::ptrdiff_t>(used));
    std::string line = fmt::format("  {:<{}} ", names[s], name_width);
    for (std::size_t c = 0; c < used; ++c) {
      const std::uint64_t n = l.counts[c];
      if (n == 0) {
        line += ' ';
      } else {
        // 1 to 8 eighths: any event shows.
        const std::uint64_t eighths = (n * 8 + peak - 1) / peak;
        line += blocks[std::clamp<std::uint64_t>(eighths, 1, 8) - 1];
      }
    }
    if (peak > 0) {
      line += fmt::format("  peak {:.4g} ev/s", static_cast<double>(peak) / column_seconds);
    }
    out.push_back(std::move(line));
    if (l.gap_count == 0) continue;
    // Under the sparkline: the columns that a gap of the threshold or more overlaps.
    std::string marks = fmt::format("  {:<{}} ", "", name_width);
    for (std::size_t c = 0; c < used; ++c) {
      const time_point from = m_origin + width * static_cast<std::int64_t>(c);
      const time_point to = from + width;
      const bool in_gap = std::any_of(l.gaps.begin(), l.gaps.end(), [&](const auto& g) {
        return from < g.second && to > g.first;
      });
      marks += in_gap ? "\u2500" : " ";  // a light horizontal line
    }
    marks += fmt::format("  {} gap{} of {} or more", l.gap_count, l.gap_count == 1 ? "" : "s",
                         human(m_gap));
    if (l.gap_count > l.gaps.size()) marks += fmt::format(" (the first {} marked)", l.gaps.size());
    out.push_back(std::move(marks));
  }
  return out;
}

}  // namespace asp::tool

#include "report.hpp"

#include "tool.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <stdexcept>

namespace asp::tool {

namespace {

constexpr double left = 100;  // room for the value labels
constexpr double plot_width = 1000;
constexpr double right = 30;
constexpr double rate_height = 70;
constexpr double value_height = 160;
constexpr double axis_height = 22;

std::string escaped_html(std::string_view text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// An axis label: the time of day, with milliseconds when the range is under a minute, with the
// date when it spans days.
std::string label_of(time_point t, duration range) {
  const std::string iso = asp::to_string(t);  // 2025-01-01T11:50:00.000000000Z
  if (range >= std::chrono::hours(24)) return iso.substr(0, 10) + " " + iso.substr(11, 5);
  if (range < std::chrono::minutes(1)) return iso.substr(11, 12);
  return iso.substr(11, 8);
}

std::string number(double v) {
  return fmt::format("{:.6g}", v);
}

// The drawing's geometry: columns to x, times to x.
struct frame {
  time_point origin;
  duration width;
  std::size_t used;

  double x_of_column(std::size_t c) const {
    return left + plot_width * static_cast<double>(c) / static_cast<double>(used);
  }
  double x_of_time(time_point t) const {
    const double span = std::chrono::duration<double>(width).count() * static_cast<double>(used);
    const double at = std::chrono::duration<double>(t - origin).count();
    return left + plot_width * std::clamp(at / span, 0.0, 1.0);
  }
  time_point end() const { return origin + width * static_cast<std::int64_t>(used); }
};

// A time axis under a panel whose bottom is at `y`: five labels, the range's ends among them.
std::string axis(const frame& f, double y) {
  std::string out =
      fmt::format("<line class=\"axis\" x1=\"{}\" y1=\"{:.1f}\" x2=\"{}\" y2=\"{:.1f}\"/>\n", left,
                  y, left + plot_width, y);
  const duration range = f.end() - f.origin;
  for (int k = 0; k <= 4; ++k) {
    const time_point t = f.origin + range / 4 * k;
    const double x = left + plot_width * k / 4.0;
    const char* anchor = k == 0 ? "start" : k == 4 ? "end" : "middle";
    out += fmt::format(
        "<line class=\"tick\" x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\"/>"
        "<text class=\"axis-label\" x=\"{0:.1f}\" y=\"{3:.1f}\" text-anchor=\"{4}\" "
        "data-time=\"{5}\">{6}</text>\n",
        x, y, y + 4, y + 16, anchor, asp::to_string(t), label_of(t, range));
  }
  return out;
}

std::string rate_panel(const frame& f, const timeline::lane& l, duration gap) {
  const double top = 8;
  const double bottom = top + rate_height;
  const std::uint64_t peak =
      *std::max_element(l.counts.begin(), l.counts.begin() + static_cast<std::ptrdiff_t>(f.used));
  const double seconds = std::chrono::duration<double>(f.width).count();
  std::string out = fmt::format(
      "<svg class=\"panel\" viewBox=\"0 0 {} {}\" width=\"{}\" height=\"{}\" "
      "xmlns=\"http://www.w3.org/2000/svg\">\n",
      left + plot_width + right, bottom + axis_height, left + plot_width + right,
      bottom + axis_height);
  // The gaps first, under the rate.
  for (const auto& [from, to] : l.gaps) {
    const double x1 = f.x_of_time(from);
    const double x2 = std::max(f.x_of_time(to), x1 + 1);
    out += fmt::format(
        "<rect class=\"gap\" x=\"{:.1f}\" y=\"{}\" width=\"{:.1f}\" height=\"{}\">"
        "<title>no event for {} after {}</title></rect>\n",
        x1, top, x2 - x1, rate_height, human(to - from), asp::to_string(from));
  }
  // The rate: an area, one step a column.
  std::string d = fmt::format("M{:.1f},{:.1f}", f.x_of_column(0), bottom);
  for (std::size_t c = 0; c < f.used; ++c) {
    const double y = peak == 0 ? bottom
                               : bottom - rate_height * static_cast<double>(l.counts[c]) /
                                              static_cast<double>(peak);
    d += fmt::format("L{:.1f},{:.1f}L{:.1f},{:.1f}", f.x_of_column(c), y, f.x_of_column(c + 1), y);
  }
  d += fmt::format("L{:.1f},{:.1f}Z", f.x_of_column(f.used), bottom);
  out += fmt::format("<path class=\"rate\" d=\"{}\"/>\n", d);
  // Out-of-order events: a mark at the top of their column.
  for (std::size_t c = 0; c < f.used; ++c) {
    if (l.disorder[c] == 0) continue;
    const double x = (f.x_of_column(c) + f.x_of_column(c + 1)) / 2;
    out += fmt::format(
        "<line class=\"disorder\" x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\">"
        "<title>{3} out of order</title></line>\n",
        x, top - 6, top + 10, l.disorder[c]);
  }
  out += fmt::format(
      "<text class=\"value-label\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{} ev/s</text>\n"
      "<text class=\"value-label\" x=\"{}\" y=\"{}\" text-anchor=\"end\">0</text>\n",
      left - 6, top + 10, fmt::format("{:.3g}", static_cast<double>(peak) / seconds), left - 6,
      bottom);
  if (l.gap_count > 0) {
    out += fmt::format(
        "<text class=\"note\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{} gap{} of {} or "
        "more</text>\n",
        left + plot_width, top + 10, l.gap_count, l.gap_count == 1 ? "" : "s", human(gap));
  }
  out += axis(f, bottom);
  out += "</svg>\n";
  return out;
}

std::string value_panel(const frame& f, const std::vector<timeline::cell>& cells) {
  const double top = 8;
  const double bottom = top + value_height;
  double least = 0;
  double greatest = 0;
  bool any = false;
  for (std::size_t c = 0; c < f.used; ++c) {
    if (!cells[c].any) continue;
    least = any ? std::min(least, cells[c].least) : cells[c].least;
    greatest = any ? std::max(greatest, cells[c].greatest) : cells[c].greatest;
    any = true;
  }
  if (greatest == least) greatest = least + 1;
  const auto y_of = [&](double v) {
    return bottom - value_height * (v - least) / (greatest - least);
  };
  std::string out = fmt::format(
      "<svg class=\"panel\" viewBox=\"0 0 {} {}\" width=\"{}\" height=\"{}\" "
      "xmlns=\"http://www.w3.org/2000/svg\">\n",
      left + plot_width + right, bottom + axis_height, left + plot_width + right,
      bottom + axis_height);
  // Each column's least to greatest, a vertical stroke; the last values, a line.
  std::string band;
  std::string last;
  bool drawing = false;
  const double column_px = plot_width / static_cast<double>(f.used);
  for (std::size_t c = 0; c < f.used; ++c) {
    const timeline::cell& k = cells[c];
    if (!k.any) {
      drawing = false;
      continue;
    }
    const double x = (f.x_of_column(c) + f.x_of_column(c + 1)) / 2;
    band += fmt::format("M{:.1f},{:.1f}V{:.1f}", x, y_of(k.greatest),
                        std::max(y_of(k.least), y_of(k.greatest) + 1));
    last += fmt::format("{}{:.1f},{:.1f}", drawing ? "L" : "M", x, y_of(k.last));
    drawing = true;
  }
  out += fmt::format("<path class=\"band\" stroke-width=\"{:.2f}\" d=\"{}\"/>\n",
                     std::max(column_px, 1.0), band);
  out += fmt::format("<path class=\"last\" d=\"{}\"/>\n", last);
  if (any) {
    out += fmt::format(
        "<text class=\"value-label\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n"
        "<text class=\"value-label\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n",
        left - 6, top + 10, number(greatest), left - 6, bottom, number(least));
  }
  out += axis(f, bottom);
  out += "</svg>\n";
  return out;
}

}  // namespace

void write_report(const std::string& path, const report_facts& facts, const timeline& rates,
                  const std::vector<plotted_column>& plots) {
  std::string page =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<title>asp inspect: " +
      escaped_html(facts.file) +
      "</title>\n<style>\n"
      "body { font-family: sans-serif; margin: 24px; color: #222; }\n"
      "table { border-collapse: collapse; margin-bottom: 16px; }\n"
      "td, th { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }\n"
      "th { background: #f2f2f2; }\n"
      "h2 { font-size: 16px; margin: 18px 0 4px; }\n"
      ".rate { fill: #4a7bb7; stroke: #2c5a92; stroke-width: 0.5; }\n"
      ".gap { fill: #d9534f; fill-opacity: 0.28; }\n"
      ".disorder { stroke: #f0a30a; stroke-width: 2; }\n"
      ".band { stroke: #9bbbe0; fill: none; }\n"
      ".last { stroke: #1f3f66; stroke-width: 1.2; fill: none; }\n"
      ".axis, .tick { stroke: #666; stroke-width: 1; }\n"
      ".axis-label, .value-label, .note { font-size: 11px; fill: #444; }\n"
      ".note { fill: #b52b27; }\n"
      "</style>\n</head>\n<body>\n";
  page += "<h1>" + escaped_html(facts.file) + "</h1>\n";
  page += fmt::format("<p>{}, {} bytes", escaped_html(facts.kind), facts.bytes);
  if (rates.started()) {
    page += fmt::format("; {} .. {}; a column is {}", asp::to_string(rates.earliest()),
                        asp::to_string(rates.latest()), human(rates.width()));
  }
  page +=
      ".</p>\n<table>\n<tr><th>stream</th><th>events</th><th>out of order</th>"
      "<th>gaps of " +
      human(rates.gap()) + " or more</th></tr>\n";
  for (std::size_t s = 0; s < facts.streams.size(); ++s) {
    page += fmt::format(
        "<tr><td style=\"text-align:left\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
        escaped_html(facts.streams[s]), facts.counts[s], facts.disordered[s],
        rates.stream(s).gap_count);
  }
  page += "</table>\n";
  if (rates.started()) {
    const frame f{rates.origin(), rates.width(), rates.used()};
    for (std::size_t s = 0; s < facts.streams.size(); ++s) {
      page += "<section class=\"stream\">\n<h2>" + escaped_html(facts.streams[s]) +
              ": events per second</h2>\n";
      page += rate_panel(f, rates.stream(s), rates.gap());
      for (std::size_t k = 0; k < plots.size(); ++k) {
        if (plots[k].stream != s) continue;
        page += "<h2>" + escaped_html(facts.streams[s]) + ": " + escaped_html(plots[k].name) +
                " (least to greatest in each column, and the last value)</h2>\n";
        page += value_panel(f, rates.series(k));
      }
      page += "</section>\n";
    }
  } else {
    page += "<p>No events.</p>\n";
  }
  page += "</body>\n</html>\n";
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw std::runtime_error("cannot create " + path);
  out << page;
  out.close();
  if (!out) throw std::runtime_error("cannot write " + path);
}

}  // namespace asp::tool

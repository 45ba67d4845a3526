// asp inspect FILE: what a record log, a dataset of them or a CSV file holds.
#include "report.hpp"
#include "timeline.hpp"
#include "tool.hpp"

#include <fmt/core.h>

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <type_traits>

namespace asp::tool {

namespace {

struct stream_stats {
  std::uint64_t count = 0;
  time_point first{};
  time_point last{};
  std::uint64_t out_of_order = 0;
};

std::string rate_of(std::uint64_t count, time_point first, time_point last) {
  if (count < 2 || last <= first) return "-";
  const double seconds = std::chrono::duration<double>(last - first).count();
  return fmt::format("{:.4g} ev/s", static_cast<double>(count - 1) / seconds);
}

const char* index_text(data::index_state s) {
  switch (s) {
    case data::index_state::complete:
      return "complete";
    case data::index_state::partial:
      return "partial (the rest rebuilt by scanning)";
    case data::index_state::missing:
      return "missing (rebuilt by scanning)";
    case data::index_state::stale:
      return "stale: it belongs to another log (rebuilt by scanning)";
  }
  return "?";
}

// The timeline's width: what is asked, else what the terminal leaves beside the names and the
// peak's label, else 60.
std::size_t timeline_columns(const inspect_options& o, const std::vector<data::log_stream>& s) {
  if (o.columns > 0) return o.columns;
  winsize size{};
  if (::isatty(1) == 0 || ::ioctl(1, TIOCGWINSZ, &size) != 0 || size.ws_col == 0) return 60;
  std::size_t names = 0;
  for (const data::log_stream& stream : s)
    names = std::max(names, data::escaped(stream.name).size());
  const std::size_t room = size.ws_col > names + 26 ? size.ws_col - names - 26 : 0;
  return std::clamp<std::size_t>(room, 20, 200);
}

// The columns --plot names: NAME (in every table stream that has a numeric column of that
// name) or STREAM:NAME.
std::vector<plotted_column> plotted(const inspect_options& o, const input& in,
                                    const std::vector<std::optional<data::table_schema>>& schemas) {
  std::vector<plotted_column> out;
  for (const std::string& wanted : o.plot) {
    const std::size_t colon = wanted.rfind(':');
    const std::string stream = colon == std::string::npos ? "" : wanted.substr(0, colon);
    const std::string name = colon == std::string::npos ? wanted : wanted.substr(colon + 1);
    bool found = false;
    std::vector<std::string> numeric;
    for (std::size_t s = 0; s < in.streams.size(); ++s) {
      if (!schemas[s]) continue;
      for (std::size_t c = 0; c < schemas[s]->columns.size(); ++c) {
        const data::table_column& column = schemas[s]->columns[c];
        if (column.type != data::column_type::integer && column.type != data::column_type::real) {
          continue;
        }
        numeric.push_back(in.streams[s].name + ":" + column.name);
        if (column.name != name || (!stream.empty() && in.streams[s].name != stream)) continue;
        out.push_back({s, c, column.name});
        found = true;
      }
    }
    if (!found) {
      throw usage_error("--plot: no numeric column " + data::shown(wanted) + " (the file has " +
                        (numeric.empty() ? std::string("none") : data::shown_list(numeric)) + ")");
    }
  }
  return out;
}

}  // namespace

int run_inspect(const inspect_options& o) {
  const std::optional<duration> marked = parse_duration(o.gap);
  if (!marked || *marked <= duration::zero()) {
    throw usage_error("--gap: expected a positive duration (5s, 1m), found " + data::shown(o.gap));
  }
  input in = open_input(o.file, o.csv, {}, {}, /*skip_bad=*/true);
  const bool draw = o.timeline == "always" || (o.timeline == "auto" && ::isatty(1) != 0);
  std::optional<timeline> rates;
  if (draw) rates.emplace(in.streams.size(), timeline_columns(o, in.streams), *marked, in.range);
  // The page: a column a pixel, 1000 of them.
  std::vector<std::optional<data::table_schema>> schemas;
  for (const data::log_stream& stream : in.streams) {
    try {
      schemas.push_back(data::table_schema::parse(stream.schema));
    } catch (const std::invalid_argument&) {
      schemas.emplace_back();
    }
  }
  if (!o.plot.empty() && o.html.empty()) throw usage_error("--plot draws on the page of --html");
  const std::vector<plotted_column> plots = plotted(o, in, schemas);
  std::optional<timeline> page;
  if (!o.html.empty()) page.emplace(in.streams.size(), 1000, *marked, in.range, plots.size());
  // By stream, by column: the series that plot it.
  std::vector<std::vector<std::vector<std::size_t>>> plotting(in.streams.size());
  for (std::size_t k = 0; k < plots.size(); ++k) {
    auto& columns = plotting[plots[k].stream];
    columns.resize(schemas[plots[k].stream]->columns.size());
    columns[plots[k].column].push_back(k);
  }
  std::vector<stream_stats> streams(in.streams.size());
  std::vector<stream_stats> files(in.files.size());
  stream_stats total;
  struct gap {
    duration length;
    time_point after;
  };
  // The o.gaps largest gaps, in a heap whose top is the smallest kept (the first to go).
  const auto larger = [](const gap& a, const gap& b) {
    return a.length > b.length || (a.length == b.length && a.after < b.after);
  };
  std::vector<gap> gaps;
  for (const auto& e : in.records) {
    stream_stats& s = streams[e.value.stream];
    if (s.count == 0) s.first = e.time;
    if (s.count > 0 && e.time < s.last) ++s.out_of_order;
    s.last = std::max(s.last, e.time);
    if (total.count > 0 && e.time > total.last) {
      const gap g{e.time - total.last, total.last};
      if (gaps.size() < o.gaps) {
        gaps.push_back(g);
        std::push_heap(gaps.begin(), gaps.end(), larger);
      } else if (!gaps.empty() && larger(g, gaps.front())) {
        std::pop_heap(gaps.begin(), gaps.end(), larger);
        gaps.back() = g;
        std::push_heap(gaps.begin(), gaps.end(), larger);
      }
    }
    if (!files.empty()) {
      stream_stats& f = files[e.value.file];
      if (f.count == 0) f.first = e.time;
      if (f.count > 0 && e.time < f.last) ++f.out_of_order;
      f.last = std::max(f.last, e.time);
      ++f.count;
    }
    if (total.count == 0) total.first = e.time;
    if (total.count > 0 && e.time < total.last) ++total.out_of_order;
    total.last = std::max(total.last, e.time);
    ++total.count;
    ++s.count;
    if (rates) rates->add(e.value.stream, e.time);
    if (page) {
      page->add(e.value.stream, e.time);
      if (!plotting[e.value.stream].empty()) {
        // The plotted columns' numbers, read straight from the row (a bad row is skipped).
        try {
          data::visit_row(*schemas[e.value.stream], e.value.payload, [&](std::size_t c, auto v) {
            using V = decltype(v);
            if constexpr (std::is_same_v<V, std::int64_t> || std::is_same_v<V, double>) {
              for (const std::size_t k : plotting[e.value.stream][c]) {
                page->add_value(k, e.time, static_cast<double>(v));
              }
            }
          });
        } catch (const input_error&) {
        }
      }
    }
  }

  report_facts facts;
  facts.file = o.file;
  std::error_code ec;
  if (in.files.size() > 1 || std::filesystem::is_directory(o.file, ec)) {
    std::uintmax_t all = 0;
    std::vector<std::uintmax_t> sizes;
    for (const std::string& f : in.files) {
      sizes.push_back(std::filesystem::file_size(f, ec));
      if (ec) sizes.back() = 0;
      all += sizes.back();
    }
    fmt::print("{}: dataset of {} record logs, {} bytes\n", o.file, in.files.size(), all);
    facts.kind = fmt::format("dataset of {} record logs", in.files.size());
    facts.bytes = all;
    fmt::print("files:\n");
    for (std::size_t k = 0; k < in.files.size(); ++k) {
      const stream_stats& f = files[k];
      fmt::print("  {}: {} bytes, {} records", in.files[k], sizes[k], f.count);
      if (f.count > 0) {
        fmt::print(", {} .. {}", asp::to_string(f.first), asp::to_string(f.last));
      }
      fmt::print("\n");
    }
  } else {
    const auto bytes = std::filesystem::file_size(o.file, ec);
    fmt::print("{}: {}, {} bytes\n", o.file, in.is_log ? "record log" : "CSV file", ec ? 0 : bytes);
    facts.kind = in.is_log ? "record log" : "CSV file";
    facts.bytes = ec ? 0 : bytes;
  }
  if (in.is_log) {
    fmt::print("creator: {}\n", data::escaped(in.creator));
    fmt::print("index: {}, {} chunks\n", index_text(in.log_report->index), in.log_report->chunks);
  }
  fmt::print("streams:\n");
  for (std::size_t i = 0; i < streams.size(); ++i) {
    const stream_stats& s = streams[i];
    fmt::print("  {}: {} records", data::escaped(in.streams[i].name), s.count);
    if (s.count > 0) {
      fmt::print(", {} .. {}, {}", asp::to_string(s.first), asp::to_string(s.last),
                 rate_of(s.count, s.first, s.last));
    }
    fmt::print(", out of order: {}\n", s.out_of_order);
    fmt::print("    schema: {}\n",
               in.streams[i].schema.empty() ? "-" : data::escaped(in.streams[i].schema, 1000));
  }
  fmt::print("total: {} records", total.count);
  if (total.count > 0) {
    fmt::print(", {} .. {} ({}), {}", asp::to_string(total.first), asp::to_string(total.last),
               human(total.last - total.first), rate_of(total.count, total.first, total.last));
  }
  fmt::print(", out of order: {}\n", total.out_of_order);
  if (rates) {
    std::vector<std::string> names;
    for (const data::log_stream& stream : in.streams) names.push_back(data::escaped(stream.name));
    for (const std::string& line : rates->lines(names)) fmt::print("{}\n", line);
  }
  std::sort(gaps.begin(), gaps.end(), larger);
  if (!gaps.empty()) {
    fmt::print("largest gaps:\n");
    for (const gap& g : gaps)
      fmt::print("  {} after {}\n", human(g.length), asp::to_string(g.after));
  }
  if (in.is_log) {
    const data::log_report& r = *in.log_report;
    if (r.torn) {
      fmt::print("torn tail: {} bytes at offset {}{}\n", r.torn->bytes, r.torn->offset,
                 in.files.size() > 1 ? " of " + r.torn->file : std::string());
    } else {
      fmt::print("torn tail: none\n");
    }
    fmt::print("corrupt records skipped: {}\n", r.corrupt_skipped);
  } else {
    const data::csv_report& r = *in.csv_report;
    fmt::print("bad rows skipped: {}\n", r.skipped);
    for (const std::string& m : r.first_skipped) fmt::print("  {}\n", m);
  }
  if (page) {
    for (std::size_t i = 0; i < streams.size(); ++i) {
      facts.streams.push_back(in.streams[i].name);
      facts.counts.push_back(streams[i].count);
      facts.disordered.push_back(streams[i].out_of_order);
    }
    write_report(o.html, facts, *page, plots);
    fmt::print(stderr, "wrote the page to {}\n", o.html);
  }
  return 0;
}

}  // namespace asp::tool

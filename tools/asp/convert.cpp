// asp convert IN OUT: a CSV file into a record log, or a log's stream back into CSV.
#include "tool.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>

namespace asp::tool {

namespace {

// Refuses an output that is the input, or one of its files (the same file, also through a link
// or another name): writing it would destroy what is read.
void refuse_overwriting_input(const std::string& out, const std::vector<std::string>& in) {
  std::error_code ec;
  for (const std::string& file : in) {
    if (std::filesystem::equivalent(file, out, ec)) {
      throw usage_error(out + " is the input " + file + ": convert would destroy it");
    }
  }
}

}  // namespace

int run_convert(const convert_options& o) {
  input in = open_input(o.in, o.csv);
  refuse_overwriting_input(o.out, in.is_log ? in.files : std::vector<std::string>{o.in});
  // A log's range is known from its index; a CSV file's is not (the line shows no percent).
  progress shown(!o.quiet, in.range ? std::optional<time_point>(in.range->first) : std::nullopt,
                 in.range ? std::optional<time_point>(in.range->second) : std::nullopt, {});
  if (!in.is_log) {
    std::vector<data::log_stream> streams = in.streams;
    if (!o.stream.empty()) streams.front().name = o.stream;
    data::log_writer out(o.out, streams,
                         {.creator = "asp convert",
                          .overwrite = o.overwrite,
                          .zstd_level = o.zstd,
                          .split = parse_split(o.split_size, o.split_duration)});
    if (o.sort) {
      // In memory, then stably by time: rows at the same time keep the file's order.
      std::vector<event<std::string>> rows;
      for (const auto& e : in.records) {
        rows.push_back(event<std::string>{e.time, std::string(e.value.payload)});
        shown.event(e.time);
      }
      std::stable_sort(rows.begin(), rows.end(),
                       [](const auto& a, const auto& b) { return a.time < b.time; });
      for (const auto& e : rows) out.write(0, e.time, e.value);
    } else {
      // A log plays only in time order: a row that goes back in time stops the conversion
      // here (what came before it is written), rather than make a log that play refuses.
      std::optional<time_point> last;
      for (const auto& e : in.records) {
        if (last && e.time < *last) {
          out.close();
          throw input_error(fmt::format(
              "{}: time {} is before the previous row's {}: a log must be in time order "
              "(--sort sorts the rows by time, in memory); the {} rows before it are in {}",
              in.where(), asp::to_string(e.time), asp::to_string(*last), out.written(), o.out));
        }
        last = e.time;
        out.write(0, e.time, e.value.payload);
        shown.event(e.time);
      }
    }
    out.close();
    shown.finish();
    fmt::print(stderr, "wrote {} records to {}{}\n", out.written(), o.out,
               out.files() > 1 ? fmt::format(" ({} files)", out.files()) : std::string());
    return 0;
  }
  if (!o.split_size.empty() || !o.split_duration.empty() || o.sort) {
    throw usage_error("--split-size, --split-duration and --sort are for writing a log");
  }

  // A log: one stream of it, as CSV.
  std::size_t chosen = 0;
  if (!o.stream.empty()) {
    const auto it = std::find_if(in.streams.begin(), in.streams.end(),
                                 [&](const data::log_stream& s) { return s.name == o.stream; });
    if (it == in.streams.end())
      throw usage_error("--stream: " + o.in + " has no stream " + data::shown(o.stream));
    chosen = static_cast<std::size_t>(it - in.streams.begin());
  } else if (in.streams.size() != 1) {
    std::vector<std::string> all;
    for (const auto& s : in.streams) all.push_back(s.name);
    const std::string names = data::shown_list(all);
    throw usage_error(o.in + " has " + std::to_string(in.streams.size()) + " streams (" + names +
                      "): choose one with --stream");
  }
  if (!o.overwrite && std::filesystem::exists(o.out)) {
    throw usage_error(o.out + " exists (--overwrite replaces it)");
  }
  std::ofstream out(o.out, std::ios::binary | std::ios::trunc);
  if (!out) throw std::runtime_error("cannot create " + o.out);
  formatter f({in.streams[chosen]}, o.in);
  out << f.csv_header() << '\n';
  std::uint64_t n = 0;
  for (const auto& e : in.records) {
    shown.event(e.time);
    if (e.value.stream != chosen) continue;
    event<data::log_record> one = e;
    one.value.stream = 0;
    out << f.csv(one) << '\n';
    ++n;
  }
  out.close();
  shown.finish();
  if (!out) throw std::runtime_error("cannot write " + o.out);
  fmt::print(stderr, "wrote {} rows to {}\n", n, o.out);
  report_torn_tail(in);
  return 0;
}

}  // namespace asp::tool

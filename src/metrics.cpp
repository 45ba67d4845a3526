#include <asp/metrics.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace asp::metrics {

namespace {

// A sample value as the text format writes it: integers exactly, others with all the digits a
// double needs, and the special values by their names.
void append_value(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
  } else if (v == std::trunc(v) && std::fabs(v) < 1e15) {
    out += std::to_string(static_cast<long long>(v));
  } else {
    // The shortest text that reads back as the same double.
    char buffer[32];
    for (int digits = 6; digits <= 17; ++digits) {
      std::snprintf(buffer, sizeof buffer, "%.*g", digits, v);
      if (std::strtod(buffer, nullptr) == v) break;
    }
    out += buffer;
  }
}

double seconds_of(duration d) {
  return std::chrono::duration<double>(d).count();
}

void append_labels(std::string& out, const labels& l, const std::string* le = nullptr) {
  if (l.empty() && le == nullptr) return;
  out += '{';
  bool first = true;
  for (const auto& [name, value] : l) {
    if (!first) out += ',';
    first = false;
    out += name;
    out += "=\"";
    out += escape_label_value(value);
    out += '"';
  }
  if (le != nullptr) {
    if (!first) out += ',';
    out += "le=\"";
    out += *le;
    out += '"';
  }
  out += '}';
}

// HELP text escapes backslash and newline.
std::string escape_help(std::string_view help) {
  std::string out;
  for (const char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void append_header(std::string& out, std::string_view name, std::string_view help,
                   std::string_view type) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += escape_help(help);
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void append_sample(std::string& out, std::string_view name, const labels& l, double v,
                   const std::string* le = nullptr) {
  out += name;
  append_labels(out, l, le);
  out += ' ';
  append_value(out, v);
  out += '\n';
}

}  // namespace

bool valid_metric_name(std::string_view name) noexcept {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

bool valid_label_name(std::string_view name) noexcept {
  return valid_metric_name(name) && name.find(':') == std::string_view::npos &&
         name.substr(0, 2) != "__";
}

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

registry::registry(loop& l) : m_loop(&l) {}

void registry::add(std::string name, stream_handle& stream) {
  stream.measure_live_lag();
  m_streams.emplace_back(std::move(name), stream.shared_stats());
}

void registry::add_counter(std::string metric, std::string help, labels l,
                           std::function<double()> read) {
  add_sample(std::move(metric), std::move(help), kind::counter, std::move(l), std::move(read));
}

void registry::add_gauge(std::string metric, std::string help, labels l,
                         std::function<double()> read) {
  add_sample(std::move(metric), std::move(help), kind::gauge, std::move(l), std::move(read));
}

registry::family& registry::family_of(const std::string& metric, const std::string& help, kind k) {
  if (!valid_metric_name(metric)) {
    throw std::invalid_argument("asp::metrics: '" + metric + "' is not a valid metric name");
  }
  for (family& f : m_families) {
    if (f.m_name != metric) continue;
    if (f.m_kind != k) {
      throw std::invalid_argument("asp::metrics: '" + metric +
                                  "' is registered already as another type");
    }
    return f;
  }
  return m_families.emplace_back(family{metric, help, k, {}});
}

void registry::add_sample(std::string metric, std::string help, kind k, labels l,
                          std::function<double()> read) {
  for (const auto& [name, value] : l) {
    if (!valid_label_name(name)) {
      throw std::invalid_argument("asp::metrics: '" + name + "' is not a valid label name");
    }
  }
  if (!read) throw std::invalid_argument("asp::metrics: '" + metric + "' has nothing to read");
  family_of(metric, help, k).m_samples.push_back(sample{std::move(l), std::move(read)});
}

std::string registry::collect() const {
  std::string out;
  const loop& l = *m_loop;
  const loop_stats& s = l.stats();
  const time_point virtual_now = l.now();
  const time_point real_now = l.clock().now();
  const labels none;

  append_header(out, "asp_loop_work_runs_total", "Pieces of work the loop ran", "counter");
  append_sample(out, "asp_loop_work_runs_total", none, static_cast<double>(s.runs));
  append_header(out, "asp_loop_waits_total",
                "Times the loop waited for the real clock or for input", "counter");
  append_sample(out, "asp_loop_waits_total", none, static_cast<double>(s.waits));
  append_header(out, "asp_loop_posts_total", "Pieces of work posted from other threads", "counter");
  append_sample(out, "asp_loop_posts_total", none, static_cast<double>(s.posts));
  append_header(out, "asp_loop_queued_work", "Pieces of work scheduled now", "gauge");
  append_sample(out, "asp_loop_queued_work", none, static_cast<double>(l.queued()));
  append_header(out, "asp_loop_live",
                "1 once the loop has caught up with the real clock, 0 while it replays", "gauge");
  append_sample(out, "asp_loop_live", none, l.is_live() ? 1 : 0);
  append_header(out, "asp_loop_virtual_time_seconds",
                "The loop's virtual time, in seconds since the Unix epoch", "gauge");
  append_sample(out, "asp_loop_virtual_time_seconds", none,
                seconds_of(virtual_now.time_since_epoch()));
  append_header(out, "asp_loop_behind_real_seconds",
                "The real clock minus the virtual time, in seconds", "gauge");
  append_sample(out, "asp_loop_behind_real_seconds", none, seconds_of(real_now - virtual_now));

  if (!m_streams.empty()) {
    struct counter {
      const char* name;
      const char* help;
      std::uint64_t stream_stats::*field;
    };
    for (const counter c :
         {counter{"asp_stream_events_total", "Events the stream handed to its callback",
                  &stream_stats::delivered},
          counter{"asp_stream_skipped_events_total", "Events out of order that the stream dropped",
                  &stream_stats::skipped},
          counter{"asp_stream_clamped_events_total",
                  "Events out of order that the stream moved forward", &stream_stats::clamped}}) {
      append_header(out, c.name, c.help, "counter");
      for (const auto& [name, stats] : m_streams) {
        append_sample(out, c.name, {{"stream", name}}, static_cast<double>((*stats).*c.field));
      }
    }
    const std::string lag = "asp_stream_live_lag_seconds";
    append_header(out, lag,
                  "How late live events reached the callback: the real clock minus the event "
                  "time",
                  "histogram");
    for (const auto& [name, stats] : m_streams) {
      const lag_histogram& h = stats->live_lag;
      const labels by{{"stream", name}};
      std::uint64_t cumulative = 0;
      for (std::size_t i = 0; i < lag_histogram::bounds.size(); ++i) {
        cumulative += h.counts[i];
        std::string le;
        append_value(le, seconds_of(lag_histogram::bounds[i]));
        if (le.find('.') == std::string::npos && le.find('e') == std::string::npos) le += ".0";
        append_sample(out, lag + "_bucket", by, static_cast<double>(cumulative), &le);
      }
      const std::string inf = "+Inf";
      append_sample(out, lag + "_bucket", by, static_cast<double>(h.count), &inf);
      append_sample(out, lag + "_sum", by, seconds_of(h.sum));
      append_sample(out, lag + "_count", by, static_cast<double>(h.count));
    }
  }

  for (const family& f : m_families) {
    append_header(out, f.m_name, f.m_help, f.m_kind == kind::counter ? "counter" : "gauge");
    for (const sample& s2 : f.m_samples) append_sample(out, f.m_name, s2.m_labels, s2.m_read());
  }
  return out;
}

}  // namespace asp::metrics

#pragma once

// Live metrics in the Prometheus text format: what a loop, its streams and channels, and any
// counter a program adds are doing, read on the loop's thread from the counters they keep
// anyway. asp/asio/metrics.hpp serves them over HTTP.

#include <asp/channel.hpp>
#include <asp/loop.hpp>
#include <asp/stream.hpp>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace asp::metrics {

/// A metric's labels: (name, value) pairs, such as {{"stream", "quotes"}}.
using labels = std::vector<std::pair<std::string, std::string>>;

/// What a scrape reads: the loop's own metrics, and whatever is added. Every read happens on
/// the loop's thread (`collect`), so counters need no atomics: the replay path pays nothing.
/// Add to it before the run, or on the loop's thread.
///
/// Metric names follow Prometheus's rules: `asp_` first, units in the name, `_total` for
/// counters. The loop's:
///
/// | metric | type | what |
/// |---|---|---|
/// | `asp_loop_work_runs_total` | counter | pieces of work run |
/// | `asp_loop_waits_total` | counter | waits for the real clock or for input |
/// | `asp_loop_posts_total` | counter | work posted from other threads (live input) |
/// | `asp_loop_queued_work` | gauge | work scheduled now |
/// | `asp_loop_live` | gauge | 1 once the loop has caught up with the real clock, else 0
/// (replaying) | | `asp_loop_virtual_time_seconds` | gauge | the virtual time, in seconds since the
/// Unix epoch | | `asp_loop_behind_real_seconds` | gauge | the real clock minus the virtual time |
///
/// A stream's (`add(name, handle)`), labelled `stream="name"`: `asp_stream_events_total`,
/// `asp_stream_skipped_events_total`, `asp_stream_clamped_events_total`, and the histogram
/// `asp_stream_live_lag_seconds` of its live events' lag behind the real clock. A channel's:
/// `asp_channel_events` and `asp_channel_capacity`, labelled `channel="name"`.
class registry {
 public:
  /// The metrics of `l`; the registry must not outlive it.
  explicit registry(loop& l);
  registry(const registry&) = delete;
  registry& operator=(const registry&) = delete;

  loop& owner() const noexcept { return *m_loop; }

  /// A stream's counters and live lag, labelled stream="name"; turns on the measuring of its
  /// live events' lag (one reading of the real clock an event).
  void add(std::string name, stream_handle& stream);

  /// A channel's fill and capacity, labelled channel="name".
  template <class T>
  void add(std::string name, channel<T> c) {
    const std::size_t capacity = c.capacity();
    add_gauge("asp_channel_events", "Events buffered in the channel, not yet taken",
              {{"channel", name}}, [c] { return static_cast<double>(c.size()); });
    add_gauge("asp_channel_capacity", "The channel's capacity, in events", {{"channel", name}},
              [capacity] { return static_cast<double>(capacity); });
  }

  /// A counter (a count that only grows: its name should end in `_total`) read by `read`, on
  /// the loop's thread, at every scrape. Throws std::invalid_argument for a name or label
  /// name that Prometheus does not accept, or a name taken by a metric of another type.
  void add_counter(std::string metric, std::string help, labels l, std::function<double()> read);
  /// A gauge (a value that goes up and down), as add_counter.
  void add_gauge(std::string metric, std::string help, labels l, std::function<double()> read);

  /// Everything, in the Prometheus text exposition format (version 0.0.4). On the loop's
  /// thread, or while no run is active.
  std::string collect() const;

 private:
  enum class kind { counter, gauge };
  struct sample {
    labels m_labels;
    std::function<double()> m_read;
  };
  struct family {
    std::string m_name;
    std::string m_help;
    kind m_kind;
    std::vector<sample> m_samples;
  };
  family& family_of(const std::string& metric, const std::string& help, kind k);
  void add_sample(std::string metric, std::string help, kind k, labels l,
                  std::function<double()> read);

  loop* m_loop;
  std::vector<family> m_families;
  std::vector<std::pair<std::string, std::shared_ptr<const stream_stats>>> m_streams;
};

/// Whether `name` is a valid Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*); label names
/// are the same without ':'.
bool valid_metric_name(std::string_view name) noexcept;
bool valid_label_name(std::string_view name) noexcept;

/// `value` as a label value in the text format: backslash, double quote and newline escaped.
std::string escape_label_value(std::string_view value);

}  // namespace asp::metrics

#pragma once

#include <asp/detail/loop_access.hpp>
#include <asp/error.hpp>
#include <asp/event.hpp>
#include <asp/hook.hpp>
#include <asp/loop.hpp>
#include <asp/sleep.hpp>
#include <asp/source.hpp>
#include <asp/spawn.hpp>
#include <asp/task.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <ranges>
#include <string>
#include <type_traits>
#include <utility>

namespace asp {

/// What a stream does with an event whose time is earlier than the previous event's.
enum class out_of_order {
  fail,   ///< stop the run with asp::input_error naming the stream, the index and both times
  clamp,  ///< deliver it at the previous event's time (its callback receives that time)
  skip,   ///< drop it and count it in stream_stats::skipped
};

/// Optional parts of a stream.
struct stream_options {
  /// Appears in errors; defaults to "#n", n counting the loop's streams from 1.
  std::string name{};
  /// Called once, before the first event; a coroutine function is awaited.
  hook<> on_start{};
  /// Called once, when the past is exhausted, before the first live event — for a stream
  /// without a live source too, as in the original, so it marks "history done"; a coroutine
  /// function is awaited.
  hook<> on_live_start{};
  /// Timestamps must not decrease within a stream; this says what happens when they do.
  out_of_order order = out_of_order::fail;
};

/// How late live events reach their callback: the real clock at delivery minus the
/// event's time, counted by upper bound (Prometheus's histogram buckets, not cumulative
/// here).
struct lag_histogram {
  static constexpr std::array<duration, 9> bounds{
      std::chrono::microseconds(10), std::chrono::microseconds(100), std::chrono::milliseconds(1),
      std::chrono::milliseconds(10), std::chrono::milliseconds(100), std::chrono::seconds(1),
      std::chrono::seconds(10),      std::chrono::seconds(60),       std::chrono::seconds(600)};
  /// counts[i]: lags at most bounds[i] and more than the bound before; the last, the rest.
  std::array<std::uint64_t, bounds.size() + 1> counts{};
  std::uint64_t count = 0;
  duration sum{0};  ///< of the lags (a negative lag, an event stamped ahead, counts as it is)

  void observe(duration lag) noexcept {
    std::size_t i = 0;
    while (i < bounds.size() && lag > bounds[i]) ++i;
    ++counts[i];
    ++count;
    sum += lag;
  }
};
/// What a stream has done so far.
struct stream_stats {
  std::uint64_t delivered = 0;  ///< events handed to the callback
  std::uint64_t skipped = 0;    ///< out-of-order events dropped (out_of_order::skip)
  std::uint64_t clamped = 0;    ///< out-of-order events moved forward (out_of_order::clamp)
  /// Of the live events (those of the future), while measure_live_lag is on: their lag behind
  /// the real clock. The past's events are not measured: their lag is the age of the history.
  lag_histogram live_lag{};
  bool measure_live_lag = false;
};

/// A stream described but not started: what `process_stream` returns. Start it with
/// `asp::start`, or by passing it to `loop::run(options, work...)` or `asp::run`.
template <class Callback, class Past, class Future>
struct stream_spec {
  Callback callback;
  Past past;
  Future future;
  stream_options options;

  /// What `loop::run(options, work...)` does with a stream: starts it, detached.
  void start_detached(loop& l) &&;
};

/// Describes a stream: `callback(time, value)` for every event of `past`, then of `future`
/// (the original's `process_stream`).
///
/// - `past`: any input range of events — `asp::event<T>`, `std::pair<time_point, T>` or
///   `std::tuple<time_point, T>` — such as a std::vector or an `asp::generator`; or asp::none.
/// - `future`: a live source with an awaitable `next()` yielding `std::optional<event>` —
///   `asp::channel<T>` or `asp::async_generator<E>`; or asp::none.
///
/// Every event is due at its own time and takes its place in the loop's (due time, sequence)
/// order, among timers, sleeping coroutines and other streams; the callback receives the
/// event's own time even when it runs later (events before the run's start, live events
/// stamped before now()). The stream awaits a coroutine callback before it pulls its next
/// event. A tuple value can be received unpacked, `callback(time, a, b)`.
template <class Callback, class Past = none_t, class Future = none_t>
stream_spec<Callback, Past, Future> process_stream(Callback callback, Past past = none,
                                                   Future future = none,
                                                   stream_options options = {}) {
  static_assert(std::is_same_v<Past, none_t> || past_source<Past>,
                "asp::process_stream: `past` must be asp::none or an input range of events "
                "(asp::event<T>, or a pair or tuple of a time_point and a value)");
  static_assert(std::is_same_v<Future, none_t> || live_source<Future>,
                "asp::process_stream: `future` must be asp::none or a live source: `co_await "
                "future.next()` must yield std::optional of an event");
  return {std::move(callback), std::move(past), std::move(future), std::move(options)};
}

/// A started stream: join it with `co_await`, read its counters, or cancel it. Dropping the
/// handle lets the stream run on; a stream's failure always stops the run.
class [[nodiscard]] stream_handle {
 public:
  stream_handle() = default;
  stream_handle(join_handle<void> join, std::shared_ptr<stream_stats> stats) noexcept
      : m_join(std::move(join)), m_stats(std::move(stats)) {}

  /// Whether the stream has delivered its last event (or failed, or was cancelled).
  bool done() const noexcept { return m_join.done(); }
  /// Counters of what the stream did so far.
  const stream_stats& stats() const noexcept { return *m_stats; }
  /// The same counters, shared: they stay readable after the handle and the stream are gone.
  std::shared_ptr<const stream_stats> shared_stats() const noexcept { return m_stats; }
  /// From now on, measure the lag of each live event (stream_stats::live_lag): one reading of
  /// the real clock an event. Off until asked (asp::metrics::registry::add asks).
  void measure_live_lag() noexcept { m_stats->measure_live_lag = true; }
  /// Stops the stream now; see join_handle::cancel.
  bool cancel() { return m_join.cancel(); }
  /// Suspends until the stream has ended; rethrows its failure.
  auto operator co_await() & noexcept { return m_join.operator co_await(); }
  /// Lets the stream run on its own.
  void detach() noexcept { m_join.detach(); }

 private:
  join_handle<void> m_join;
  std::shared_ptr<stream_stats> m_stats;
};

namespace detail {

/// A past range together with its position, kept at a stable address so that the first
/// event can be read before the stream's coroutine exists.
template <class Range>
struct past_cursor {
  using iterator = std::ranges::iterator_t<Range>;
  using sentinel = std::ranges::sentinel_t<Range>;
  using event_type = std::remove_cvref_t<std::ranges::range_reference_t<Range>>;

  explicit past_cursor(Range&& r) : m_range(std::move(r)), m_it(std::ranges::begin(m_range)) {}
  bool done() { return m_it == std::ranges::end(m_range); }

  Range m_range;
  iterator m_it;
};

template <>
struct past_cursor<none_t> {};

// The order rule of a stream; returns false when the event must be skipped.
inline bool check_order(const stream_options& options, stream_stats& stats, std::uint64_t index,
                        time_point previous, time_point& t) {
  if (t >= previous) return true;
  switch (options.order) {
    case out_of_order::fail:
      throw input_error("out of order: earlier than event #" + std::to_string(index - 1) + " (" +
                        to_string(previous) + ")");
    case out_of_order::clamp:
      ++stats.clamped;
      t = previous;
      return true;
    case out_of_order::skip:
      ++stats.skipped;
      return false;
  }
  return true;
}

// Where a stream is, for error messages.
enum class stream_phase { on_start, events, on_live_start };

template <class Callback, class Range, class Future>
task<void> run_stream(Callback callback, std::unique_ptr<past_cursor<Range>> past, Future future,
                      stream_options options, std::shared_ptr<stream_stats> stats,
                      std::exception_ptr first_read_error) {
  loop& l = current_loop();
  std::uint64_t index = 0;
  time_point previous = time_point::min();
  std::optional<time_point> current;  // the time of the event at hand, for error messages
  stream_phase phase = stream_phase::events;
  // The callback lives in this frame and the event until the callback is done, so a
  // coroutine callback's task may refer to both.
  auto deliver = [&](time_point t, auto& e) -> task<void> {
    using E = std::remove_cvref_t<decltype(e)>;
    ++stats->delivered;
    return call_async(
        [&]() -> decltype(auto) { return invoke_event(callback, t, event_traits<E>::value(e)); });
  };
  try {
    // Reading the first event (done when the stream started) failed: fail here, with the
    // stream's name, like any later read.
    if (first_read_error) std::rethrow_exception(first_read_error);
    if (options.on_start) {
      phase = stream_phase::on_start;
      if (task<void> started = options.on_start(); started.valid()) co_await std::move(started);
      phase = stream_phase::events;
    }
    if constexpr (!std::is_same_v<Range, none_t>) {
      using E = typename past_cursor<Range>::event_type;
      // The coroutine was started at the first event's time; later events come here at once
      // while they are the earliest work and due (the fast path), else through the queue.
      while (!past->done()) {
        auto&& e = *past->m_it;
        time_point t = event_traits<E>::time(e);
        current = t;
        if (index > 0) {
          if (!check_order(options, *stats, index, previous, t)) {
            ++index;
            ++past->m_it;
            continue;
          }
          co_await next_due(l, t);
        }
        task<void> pending = deliver(t, e);
        if (pending.valid()) co_await std::move(pending);
        previous = t;
        ++index;
        current.reset();
        ++past->m_it;
      }
    }
    if (options.on_live_start) {
      phase = stream_phase::on_live_start;
      if (task<void> live = options.on_live_start(); live.valid()) co_await std::move(live);
      phase = stream_phase::events;
    }
    if constexpr (!std::is_same_v<Future, none_t>) {
      using E = live_event_t<Future>;
      for (;;) {
        const std::uint64_t slot = loop_access::slot(l);
        std::optional<E> e = co_await future.next();
        if (!e) break;
        time_point t = event_traits<E>::time(*e);
        current = t;
        if (index > 0 && !check_order(options, *stats, index, previous, t)) {
          ++index;
          continue;
        }
        // A source that woke the stream from work due at the event's own time (a channel's
        // wake-up is posted at the event's time; a generator that slept until it) delivers it
        // in that slot. Otherwise the event takes its place in the queue, or the fast path.
        const bool in_its_slot = loop_access::slot(l) != slot && l.current_due() == t;
        if (!in_its_slot) co_await next_due(l, t);
        if (stats->measure_live_lag) stats->live_lag.observe(l.clock().now() - t);
        task<void> pending = deliver(t, *e);
        if (pending.valid()) co_await std::move(pending);
        previous = t;
        ++index;
        current.reset();
      }
    }
  } catch (...) {
    std::string where = "stream '" + options.name + "', ";
    switch (phase) {
      case stream_phase::on_start:
        where += "on_start";
        break;
      case stream_phase::on_live_start:
        where += "on_live_start";
        break;
      case stream_phase::events:
        where += "event #" + std::to_string(index);
        if (current) where += " (" + to_string(*current) + ")";
        break;
    }
    l.fail_run(std::current_exception(), std::move(where));
    throw;
  }
}

}  // namespace detail

/// Starts the stream that `spec` describes on `l`. Its first past event is read and scheduled
/// at once, so a stream started before the run counts as work known when the run begins
/// (contract C3); a source that fails to produce it fails the run when the stream starts,
/// naming the stream. A stream without a name is called "#n", n counting the loop's streams.
template <class Callback, class Past, class Future>
stream_handle start(loop& l, stream_spec<Callback, Past, Future> spec) {
  if (spec.options.name.empty()) spec.options.name = detail::loop_access::next_stream_name(l);
  auto stats = std::make_shared<stream_stats>();
  std::string task_name = "stream '" + spec.options.name + "'";
  if constexpr (std::is_same_v<Past, none_t>) {
    auto body = detail::run_stream<Callback, none_t, Future>(std::move(spec.callback), nullptr,
                                                             std::move(spec.future),
                                                             std::move(spec.options), stats, {});
    return {spawn(l, std::move(body), std::move(task_name)), stats};
  } else {
    std::unique_ptr<detail::past_cursor<Past>> cursor;
    std::optional<time_point> first;
    std::exception_ptr first_read_error;
    try {
      cursor = std::make_unique<detail::past_cursor<Past>>(std::move(spec.past));
      if (!cursor->done()) {
        using E = typename detail::past_cursor<Past>::event_type;
        first = detail::event_traits<E>::time(*cursor->m_it);
      }
    } catch (...) {
      first_read_error = std::current_exception();
    }
    auto body = detail::run_stream<Callback, Past, Future>(
        std::move(spec.callback), std::move(cursor), std::move(spec.future),
        std::move(spec.options), stats, std::move(first_read_error));
    return {spawn(l, std::move(body), std::move(task_name), first), stats};
  }
}

/// asp::start on the running loop: starts a stream from inside a callback or coroutine.
template <class Callback, class Past, class Future>
stream_handle start(stream_spec<Callback, Past, Future> spec) {
  return start(current_loop(), std::move(spec));
}

template <class Callback, class Past, class Future>
void stream_spec<Callback, Past, Future>::start_detached(loop& l) && {
  start(l, std::move(*this)).detach();
}

}  // namespace asp

#pragma once

// Recording a live stream while it is processed: a live source that writes every event it
// yields into a record log, so that the recording, replayed as the past, gives the same
// callbacks with the same times and values.

#include <asp/data/log.hpp>
#include <asp/event.hpp>
#include <asp/source.hpp>
#include <asp/task.hpp>

#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>

namespace asp::data {

/// A live source that passes on `Source`'s events and appends each, as it passes, to a record
/// log: the event's own time, its value encoded by codec<value type>. A failure to write fails
/// the stream (and so the run). Closable when the wrapped source is.
template <live_source Source>
class recorded {
 public:
  using event_type = live_event_t<Source>;
  using value_type = event_value_t<event_type>;

  recorded(Source source, log_writer& writer, std::uint16_t stream)
      : m_source(std::move(source)), m_writer(&writer), m_stream(stream) {}

  task<std::optional<event_type>> next() {
    std::optional<event_type> e = co_await m_source.next();
    if (e) m_writer->write_value(m_stream, event_time(*e), event_value(*e));
    co_return e;
  }

  void close() requires closable_source<Source> { m_source.close(); }

 private:
  Source m_source;
  log_writer* m_writer;
  std::uint16_t m_stream;
};

/// Records `source` into stream `stream` of `writer` while a stream processes it:
/// `process_stream(on_quote, history, record_into(log, "quotes", feed))`. `writer` must
/// outlive the run.
template <live_source Source>
recorded<Source> record_into(log_writer& writer, std::string_view stream, Source source) {
  return recorded<Source>(std::move(source), writer, writer.stream_id(stream));
}

}  // namespace asp::data

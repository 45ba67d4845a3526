// Fuzzes the record-log reader on any bytes (and on a valid log with bytes changed): it reads,
// seeks, reports a torn tail or corruption, and only asp::input_error may come out. An input
// that holds several logs one after another ("ASPLOG " where each starts) is also read as a
// dataset of those files.
#include <asp/data/log.hpp>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_file.hpp"

namespace {

template <class Paths>
void read_all(const Paths& path, asp::data::log_read_options options) {
  try {
    asp::data::log_reader reader(path, options);
    std::int64_t previous = INT64_MIN;
    const bool one_stream = reader.streams().size() <= 1;
    for (const auto& e : reader) {
      if (e.value.stream >= reader.streams().size()) std::abort();
      const std::int64_t t = e.time.time_since_epoch().count();
      if (options.start && e.time < *options.start) std::abort();
      (void)one_stream;
      previous = t;
    }
    (void)previous;
  } catch (const asp::input_error&) {
  }
}

// Every stream of the file as a typed source of one log_file, read in turn.
template <class Paths>
void read_shared(const Paths& path, asp::data::log_read_options options) {
  try {
    asp::data::log_file file(path, options);
    std::vector<asp::data::shared_log_source<std::string>> sources;
    std::set<std::string> names;  // a crafted header may name a stream twice
    for (const asp::data::log_stream& s : file.streams()) {
      if (names.insert(s.name).second) sources.push_back(file.source<std::string>(s.name));
    }
    for (auto& source : sources) {
      for (auto it = source.begin(); it != source.end(); ++it) {
        if (options.start && (*it).time < *options.start) std::abort();
      }
    }
  } catch (const asp::input_error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const asp::fuzz::memory_file file(data, size);
  read_all(file.path(), {.on_corrupt = asp::data::corrupt_records::skip});
  read_all(file.path(), {});
  read_all(file.path(), {.start = asp::time_point{std::chrono::seconds(1)}});
  read_all(file.path(), {.on_corrupt = asp::data::corrupt_records::skip, .max_held = 2});
  read_shared(file.path(), {.on_corrupt = asp::data::corrupt_records::skip, .max_held = 2});

  // The logs in the input, as a dataset (at most four files).
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  std::vector<std::size_t> starts{0};
  for (std::size_t at = bytes.find("ASPLOG ", 1); at != std::string_view::npos && starts.size() < 4;
       at = bytes.find("ASPLOG ", at + 1)) {
    starts.push_back(at);
  }
  if (starts.size() < 2) return 0;
  starts.push_back(size);
  std::vector<std::unique_ptr<asp::fuzz::memory_file>> parts;
  std::vector<std::string> paths;
  for (std::size_t k = 0; k + 1 < starts.size(); ++k) {
    parts.push_back(
        std::make_unique<asp::fuzz::memory_file>(data + starts[k], starts[k + 1] - starts[k]));
    paths.push_back(parts.back()->path());
  }
  read_all(paths, {.on_corrupt = asp::data::corrupt_records::skip});
  read_all(paths, {.start = asp::time_point{std::chrono::seconds(1)}});
  read_all(paths, {.on_corrupt = asp::data::corrupt_records::skip, .max_held = 1});
  read_shared(paths, {.on_corrupt = asp::data::corrupt_records::skip, .max_held = 2});
  return 0;
}

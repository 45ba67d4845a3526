#pragma once

// Opening a file to read it, for every reader of asp::data (the mapped files of CSV sources,
// the record log's pread scans): one place for the checks and their messages.

#include <cstdint>
#include <string>

namespace asp::data::detail {

/// An open descriptor and the file's size when it was opened.
struct readable_file {
  int fd = -1;
  std::uint64_t size = 0;
};

/// Opens `path` read-only. Throws asp::input_error "cannot open PATH: reason" when it cannot,
/// or when it is a directory; the caller closes `fd`.
readable_file open_readable(const std::string& path);

}  // namespace asp::data::detail

#pragma once

// The fuzz targets' input as a file the readers can open: an in-memory file (memfd), named by
// its /proc path.

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

namespace asp::fuzz {

class memory_file {
 public:
  memory_file(const std::uint8_t* data, std::size_t size) {
    m_fd = ::memfd_create("asp-fuzz", MFD_CLOEXEC);
    if (m_fd < 0) std::abort();
    std::size_t done = 0;
    while (done < size) {
      const ssize_t n = ::write(m_fd, data + done, size - done);
      if (n <= 0) std::abort();
      done += static_cast<std::size_t>(n);
    }
    m_path = "/proc/self/fd/" + std::to_string(m_fd);
  }
  ~memory_file() { ::close(m_fd); }
  memory_file(const memory_file&) = delete;
  memory_file& operator=(const memory_file&) = delete;
  const std::string& path() const { return m_path; }

 private:
  int m_fd = -1;
  std::string m_path;
};

}  // namespace asp::fuzz

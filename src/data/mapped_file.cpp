#include <asp/data/mapped_file.hpp>

#include <asp/error.hpp>

#include "readable_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace asp::data {

namespace detail {

readable_file open_readable(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw input_error("cannot open " + path + ": " + std::strerror(errno));
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    const int error = errno;
    ::close(fd);
    throw input_error("cannot open " + path + ": " + std::strerror(error));
  }
  if (S_ISDIR(info.st_mode)) {
    ::close(fd);
    throw input_error("cannot open " + path + ": it is a directory");
  }
  return {fd, static_cast<std::uint64_t>(info.st_size)};
}

}  // namespace detail

mapped_file::mapped_file(std::string path) : m_path(std::move(path)) {
  const auto [fd, size] = detail::open_readable(m_path);
  m_size = static_cast<std::size_t>(size);
  if (m_size > 0) {
    void* p = ::mmap(nullptr, m_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      const int error = errno;
      ::close(fd);
      throw input_error("cannot map " + m_path + ": " + std::strerror(error));
    }
    ::madvise(p, m_size, MADV_SEQUENTIAL);
    m_data = static_cast<const char*>(p);
  }
  ::close(fd);
}

mapped_file::mapped_file(mapped_file&& other) noexcept
    : m_path(std::move(other.m_path)),
      m_data(std::exchange(other.m_data, nullptr)),
      m_size(std::exchange(other.m_size, 0)) {}

mapped_file& mapped_file::operator=(mapped_file&& other) noexcept {
  if (this != &other) {
    release();
    m_path = std::move(other.m_path);
    m_data = std::exchange(other.m_data, nullptr);
    m_size = std::exchange(other.m_size, 0);
  }
  return *this;
}

mapped_file::~mapped_file() {
  release();
}

void mapped_file::release() noexcept {
  if (m_data != nullptr) ::munmap(const_cast<char*>(m_data), m_size);
  m_data = nullptr;
  m_size = 0;
}

}  // namespace asp::data

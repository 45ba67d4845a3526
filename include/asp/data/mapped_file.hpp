#pragma once

#include <string>
#include <string_view>

namespace asp::data {

/// A whole file mapped read-only into memory, for readers that go through it once, front to
/// back (the kernel is told so). Move-only; the bytes stay valid while it lives.
class mapped_file {
 public:
  /// Maps `path`. Throws asp::input_error "cannot open PATH: reason" when it cannot.
  explicit mapped_file(std::string path);
  mapped_file(mapped_file&& other) noexcept;
  mapped_file& operator=(mapped_file&& other) noexcept;
  mapped_file(const mapped_file&) = delete;
  mapped_file& operator=(const mapped_file&) = delete;
  ~mapped_file();

  /// The file's bytes (empty for an empty file).
  std::string_view bytes() const noexcept { return {m_data, m_size}; }
  const std::string& path() const noexcept { return m_path; }

 private:
  void release() noexcept;

  std::string m_path;
  const char* m_data = nullptr;
  std::size_t m_size = 0;
};

}  // namespace asp::data

#pragma once

// What the asp::data tests share: files written in a fresh directory, removed afterwards, and
// the message of the asp::input_error a piece of code throws.

#include <asp/error.hpp>

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <string_view>

namespace asp::testing {

class temp_dir {
 public:
  temp_dir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "asp-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    m_path = pattern;
  }
  ~temp_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(m_path, ignored);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  /// The path of `name` in the directory.
  std::string path(std::string_view name) const { return (m_path / name).string(); }

  /// Writes `bytes` to `name` and returns its path.
  std::string write(std::string_view name, std::string_view bytes) const {
    const std::string p = path(name);
    std::ofstream out(p, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return p;
  }

  /// The bytes of `name`.
  std::string read(std::string_view name) const {
    std::ifstream in(path(name), std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

 private:
  std::filesystem::path m_path;
};

/// The message of the asp::input_error that `f` throws (a test failure when it throws none).
inline std::string input_error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const asp::input_error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no asp::input_error";
  return "";
}

}  // namespace asp::testing

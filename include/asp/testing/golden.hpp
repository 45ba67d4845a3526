#pragma once

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

namespace asp::testing {

/// Compares `actual` with the contents of the file `golden`, byte for byte. Returns
/// std::nullopt when they are equal, else what differs: the file that cannot be read, or the
/// first line that differs (numbered from 1) with both versions.
inline std::optional<std::string> compare_with_golden(std::string_view actual,
                                                      const std::filesystem::path& golden) {
  std::ifstream in(golden, std::ios::binary);
  if (!in) return "cannot read the golden file " + golden.string();
  std::stringstream text;
  text << in.rdbuf();
  const std::string expected = text.str();
  if (expected == actual) return std::nullopt;
  std::istringstream want(expected);
  std::istringstream got{std::string(actual)};
  std::string want_line;
  std::string got_line;
  for (int line = 1;; ++line) {
    const bool more_wanted = static_cast<bool>(std::getline(want, want_line));
    const bool more_got = static_cast<bool>(std::getline(got, got_line));
    if (!more_wanted && !more_got) {
      return golden.string() + ": the output differs from the golden file in its last newline";
    }
    if (!more_wanted || !more_got || want_line != got_line) {
      return golden.string() + ":" + std::to_string(line) + ": expected '" +
             (more_wanted ? want_line : std::string("<end of file>")) + "', got '" +
             (more_got ? got_line : std::string("<end of output>")) + "'";
    }
  }
}

}  // namespace asp::testing

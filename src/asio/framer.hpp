#pragma once

// Cutting a byte stream into frames, for asp::asio's TCP sources: newline-delimited lines or
// 4-byte big-endian length-prefixed frames, bounded by a maximum. Private to asp::asio, and
// free of Asio, so that the fuzzer (tests/fuzz/net_fuzz.cpp) builds it alone.

#include <asp/error.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace asp::asio::detail {

enum class frame_kind { line, length_prefixed };

class framer {
 public:
  framer(frame_kind kind, std::size_t max_frame) : m_kind(kind), m_max(max_frame) {}

  void append(const char* data, std::size_t size) { m_buffer.append(data, size); }

  /// The next complete frame, if one is buffered. Throws asp::input_error (prefixed with
  /// `where`) for a frame longer than the maximum.
  std::optional<std::string> pop(const std::string& where) {
    if (m_kind == frame_kind::line) {
      const std::size_t end = m_buffer.find('\n');
      if (end == std::string::npos) {
        if (m_buffer.size() > m_max) too_long(where, m_buffer.size());
        return std::nullopt;
      }
      if (end > m_max) too_long(where, end);
      std::string line = m_buffer.substr(0, end);
      m_buffer.erase(0, end + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      return line;
    }
    if (m_buffer.size() < 4) return std::nullopt;
    const auto byte = [&](std::size_t i) {
      return static_cast<std::uint32_t>(static_cast<unsigned char>(m_buffer[i]));
    };
    const std::size_t size = (byte(0) << 24) | (byte(1) << 16) | (byte(2) << 8) | byte(3);
    if (size > m_max) too_long(where, size);
    if (m_buffer.size() < 4 + size) return std::nullopt;
    std::string frame = m_buffer.substr(4, size);
    m_buffer.erase(0, 4 + size);
    return frame;
  }

  /// Bytes of an incomplete frame.
  std::size_t pending() const noexcept { return m_buffer.size(); }
  std::string take_rest() {
    std::string rest = std::move(m_buffer);
    m_buffer.clear();
    return rest;
  }
  /// At the end of input, what is buffered as a last line (its `\r` dropped). Throws
  /// asp::input_error (prefixed with `where`) when it is longer than the maximum.
  std::string take_last_line(const std::string& where) {
    if (m_buffer.size() > m_max) too_long(where, m_buffer.size());
    std::string line = take_rest();
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
  }
  void clear() noexcept { m_buffer.clear(); }

 private:
  [[noreturn]] void too_long(const std::string& where, std::size_t size) const {
    throw input_error(where + ": a frame of " + std::to_string(size) +
                      " bytes is over the maximum of " + std::to_string(m_max));
  }

  frame_kind m_kind;
  std::size_t m_max;
  std::string m_buffer;
};

}  // namespace asp::asio::detail

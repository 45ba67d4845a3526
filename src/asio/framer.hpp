#pragma once

// Framing a byte stream, both ways, for asp::asio's TCP sources, sinks and servers:
// newline-delimited lines or 4-byte big-endian length-prefixed frames, bounded by a maximum.
// Private to asp::asio, and free of Asio, so that the fuzzer (tests/fuzz/net_fuzz.cpp) builds
// it alone.

#include <asp/asio/framing.hpp>
#include <asp/error.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace asp::asio::detail {

/// The bytes that carry `frame` framed as `kind` says: the line and its newline, or the frame
/// after its length.
inline std::string encode_frame(framing kind, std::string frame) {
  if (kind == framing::lines) {
    frame.push_back('\n');
    return frame;
  }
  const auto size = static_cast<std::uint32_t>(frame.size());
  std::string bytes{static_cast<char>((size >> 24) & 0xff), static_cast<char>((size >> 16) & 0xff),
                    static_cast<char>((size >> 8) & 0xff), static_cast<char>(size & 0xff)};
  return bytes + frame;
}

/// Cuts frames of one kind out of the bytes appended to it.
class framer {
 public:
  framer(framing kind, std::size_t max_frame) : m_kind(kind), m_max(max_frame) {}

  void append(const char* data, std::size_t size) {
    // What was taken goes once per read, not once per frame: a read of many lines is cut in
    // time linear in its size.
    if (m_begin > 0) {
      m_buffer.erase(0, m_begin);
      m_begin = 0;
    }
    m_buffer.append(data, size);
  }

  /// The next complete frame, if one is buffered. Throws asp::input_error for a frame longer
  /// than the maximum, prefixed with `where`: a string, or a function that makes it (called
  /// only then).
  template <class Where>
  std::optional<std::string> pop(const Where& where) {
    const std::string_view rest = std::string_view(m_buffer).substr(m_begin);
    if (m_kind == framing::lines) {
      const std::size_t end = rest.find('\n');
      if (end == std::string_view::npos) {
        if (rest.size() > m_max) too_long(where, rest.size(), false);
        return std::nullopt;
      }
      if (end > m_max) too_long(where, end, true);
      m_begin += end + 1;
      return std::string(without_cr(rest.substr(0, end)));
    }
    if (rest.size() < 4) return std::nullopt;
    const auto byte = [&](std::size_t i) {
      return static_cast<std::uint32_t>(static_cast<unsigned char>(rest[i]));
    };
    const std::size_t size = (byte(0) << 24) | (byte(1) << 16) | (byte(2) << 8) | byte(3);
    if (size > m_max) too_long(where, size, true);
    if (rest.size() < 4 + size) return std::nullopt;
    m_begin += 4 + size;
    return std::string(rest.substr(4, size));
  }

  /// Bytes of an incomplete frame.
  std::size_t pending() const noexcept { return m_buffer.size() - m_begin; }
  /// At the end of input, what is buffered as a last line (its `\r` dropped). Throws
  /// asp::input_error (prefixed with `where`, as for pop) when it is longer than the maximum.
  template <class Where>
  std::string take_last_line(const Where& where) {
    if (pending() > m_max) too_long(where, pending(), true);
    const std::string_view rest = std::string_view(m_buffer).substr(m_begin);
    std::string line(without_cr(rest));
    clear();
    return line;
  }
  void clear() noexcept {
    m_buffer.clear();
    m_begin = 0;
  }

 private:
  static std::string_view without_cr(std::string_view line) noexcept {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
  }

  // `size`: of the whole frame when `complete`, else of its bytes so far.
  template <class Where>
  [[noreturn]] void too_long(const Where& where, std::size_t size, bool complete) const {
    std::string text;
    if constexpr (std::is_invocable_v<const Where&>) {
      text = where();
    } else {
      text = where;
    }
    const char* what = m_kind == framing::lines ? ": a line" : ": a frame";
    if (complete) {
      text += std::string(what) + " of " + std::to_string(size) + " bytes is over the maximum of " +
              std::to_string(m_max);
    } else {
      text += std::string(what) + " over the maximum of " + std::to_string(m_max) + " bytes (" +
              std::to_string(size) + " bytes without a newline)";
    }
    throw input_error(text);
  }

  framing m_kind;
  std::size_t m_max;
  std::string m_buffer;
  std::size_t m_begin = 0;  // where the frames not yet taken begin in m_buffer
};

}  // namespace asp::asio::detail

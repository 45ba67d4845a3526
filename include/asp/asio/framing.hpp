#pragma once

namespace asp::asio {

/// How a byte stream is cut into events.
enum class framing {
  lines,            ///< newline-delimited text (a `\r` before the newline is dropped)
  length_prefixed,  ///< each frame preceded by its length: 4 bytes, unsigned, big-endian
};

}  // namespace asp::asio

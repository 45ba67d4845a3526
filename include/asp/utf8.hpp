#pragma once

// UTF-8 as the protocols and formats ASP speaks require it (JSON, websocket text messages):
// which bytes are text, for the parts that must choose between text and bytes.

#include <cstddef>
#include <string_view>

namespace asp {

/// The length (1 to 4) of the UTF-8 sequence `text` starts with, or 0 when it starts with none:
/// empty, a stray continuation byte, an overlong form, a surrogate, a code point past U+10FFFF,
/// or a sequence cut short.
std::size_t utf8_sequence(std::string_view text) noexcept;

/// Whether `text` is UTF-8 throughout (controls are code points like any other).
bool valid_utf8(std::string_view text) noexcept;

}  // namespace asp

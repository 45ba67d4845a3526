#pragma once

// Text from a file or a peer, as a message may show it: bytes that would move a terminal's
// cursor, change its colours or break a line are escaped, and a long text is cut. Every message
// that echoes what it read goes through here, so that a hostile file cannot write to the
// reader's terminal or make a message of megabytes.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace asp::data {

/// `text` with backslash escapes for what is not printable: `\n`, `\r`, `\t`, `\\`, and `\xNN`
/// for other control bytes, DEL, C1 controls and bytes that are not UTF-8 (valid UTF-8 is kept).
/// Cut after `limit` bytes of `text`, then `...` and the text's size: `abc... (52428800 bytes)`.
std::string escaped(std::string_view text, std::size_t limit = 200);

/// `escaped` in single quotes (a quote inside as `\'`); the size after the closing quote.
std::string shown(std::string_view text, std::size_t limit = 60);

/// `text` with each byte that is not part of a UTF-8 sequence (asp::utf8_sequence) replaced by
/// U+FFFD.
std::string as_utf8(std::string_view text);

/// Names as a list: `'a', 'b', 'c'`, each shown, at most `limit` of them, then `and N more`.
std::string shown_list(const std::vector<std::string>& names, std::size_t limit = 12);

}  // namespace asp::data

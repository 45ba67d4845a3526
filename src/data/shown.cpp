#include <asp/data/shown.hpp>

#include <asp/utf8.hpp>

#include <cstdint>

namespace asp::data {

namespace {

// The length of the UTF-8 sequence at the start of `s` (2 to 4) that a terminal may be shown,
// or 0: not UTF-8 (asp::utf8_sequence), or a C1 control (U+0080..U+009F), which terminals obey.
std::size_t utf8_sequence(std::string_view s) {
  const std::size_t n = asp::utf8_sequence(s);
  if (n < 2) return 0;
  if (n == 2 && static_cast<std::uint8_t>(s[0]) == 0xC2 &&
      static_cast<std::uint8_t>(s[1]) <= 0x9F) {
    return 0;
  }
  return n;
}

void escape_into(std::string& out, std::string_view text, std::size_t limit, bool quoted) {
  static constexpr char hex[] = "0123456789abcdef";
  std::size_t i = 0;
  while (i < text.size() && i < limit) {
    const auto c = static_cast<std::uint8_t>(text[i]);
    if (c >= 0x20 && c < 0x7F) {
      if (c == '\\' || (quoted && c == '\'')) out += '\\';
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    if (c >= 0x80) {
      if (const std::size_t n = utf8_sequence(text.substr(i)); n != 0 && i + n <= limit) {
        out.append(text.substr(i, n));
        i += n;
        continue;
      }
    }
    out += '\\';
    switch (c) {
      case '\n':
        out += 'n';
        break;
      case '\r':
        out += 'r';
        break;
      case '\t':
        out += 't';
        break;
      default:
        out += 'x';
        out += hex[c >> 4];
        out += hex[c & 0xF];
    }
    ++i;
  }
  if (i < text.size()) out += "...";
  if (quoted) out += '\'';
  if (i < text.size()) out += " (" + std::to_string(text.size()) + " bytes)";
}

}  // namespace

std::string as_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    if (const std::size_t n = asp::utf8_sequence(text.substr(i)); n != 0) {
      out.append(text.substr(i, n));
      i += n;
    } else {
      out += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER
      ++i;
    }
  }
  return out;
}

std::string escaped(std::string_view text, std::size_t limit) {
  std::string out;
  escape_into(out, text, limit, false);
  return out;
}

std::string shown(std::string_view text, std::size_t limit) {
  std::string out = "'";
  escape_into(out, text, limit, true);
  return out;
}

std::string shown_list(const std::vector<std::string>& names, std::size_t limit) {
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < limit; ++i) {
    if (i > 0) out += ", ";
    out += shown(names[i]);
  }
  if (names.size() > limit) out += " and " + std::to_string(names.size() - limit) + " more";
  return out;
}

}  // namespace asp::data

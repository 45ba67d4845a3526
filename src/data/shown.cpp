#include <asp/data/shown.hpp>

#include <cstdint>

namespace asp::data {

namespace {

// The length of the valid UTF-8 sequence at the start of `s` (2 to 4), or 0. Overlong forms,
// surrogates and code points past U+10FFFF are not valid; nor, unless `c1` allows them, are C1
// controls (U+0080..U+009F), which terminals obey.
std::size_t utf8_sequence(std::string_view s, bool c1 = false) {
  const auto b = [&](std::size_t i) { return static_cast<std::uint8_t>(s[i]); };
  const std::uint8_t lead = b(0);
  std::size_t n = 0;
  std::uint32_t cp = 0;
  if (lead >= 0xC2 && lead <= 0xDF) {
    n = 2;
    cp = lead & 0x1Fu;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    n = 3;
    cp = lead & 0x0Fu;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    n = 4;
    cp = lead & 0x07u;
  } else {
    return 0;
  }
  if (s.size() < n) return 0;
  for (std::size_t i = 1; i < n; ++i) {
    if ((b(i) & 0xC0u) != 0x80u) return 0;
    cp = (cp << 6) | (b(i) & 0x3Fu);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
      (cp >= 0xD800 && cp <= 0xDFFF) || (!c1 && cp >= 0x80 && cp <= 0x9F)) {
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

bool valid_utf8(std::string_view text) noexcept {
  for (std::size_t i = 0; i < text.size();) {
    if (static_cast<std::uint8_t>(text[i]) < 0x80) {
      ++i;
      continue;
    }
    const std::size_t n = utf8_sequence(text.substr(i), true);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string as_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    if (static_cast<std::uint8_t>(text[i]) < 0x80) {
      out += text[i++];
      continue;
    }
    if (const std::size_t n = utf8_sequence(text.substr(i), true); n != 0) {
      out.append(text.substr(i, n));
      i += n;
      continue;
    }
    out += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER
    ++i;
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

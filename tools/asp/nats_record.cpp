#include "nats_record.hpp"

#include <asp/data/codec.hpp>

namespace asp::tool {

namespace {

template <class T>
void put(std::string& out, T value) {
  data::codec<T>::encode(value, out);
}

// Reads a T at `at` and moves past it; false when the payload ends first.
template <class T>
bool take(std::string_view payload, std::size_t& at, T& out) {
  if (payload.size() - at < sizeof(T)) return false;
  out = data::codec<T>::decode(payload.substr(at, sizeof(T)));
  at += sizeof(T);
  return true;
}

bool take_text(std::string_view payload, std::size_t& at, std::size_t size, std::string_view& out) {
  if (payload.size() - at < size) return false;
  out = payload.substr(at, size);
  at += size;
  return true;
}

}  // namespace

std::string encode_nats_record(std::string_view subject, std::uint64_t sequence,
                               const std::vector<std::pair<std::string, std::string>>& headers,
                               std::string_view data) {
  std::string out;
  put(out, static_cast<std::uint16_t>(subject.size()));
  out.append(subject);
  put(out, sequence);
  put(out, static_cast<std::uint16_t>(headers.size()));
  for (const auto& [name, value] : headers) {
    put(out, static_cast<std::uint16_t>(name.size()));
    out.append(name);
    put(out, static_cast<std::uint32_t>(value.size()));
    out.append(value);
  }
  out.append(data);
  return out;
}

std::optional<nats_record> decode_nats_record(std::string_view payload) {
  nats_record r;
  std::size_t at = 0;
  std::uint16_t subject_size = 0;
  std::uint16_t count = 0;
  if (!take(payload, at, subject_size) || !take_text(payload, at, subject_size, r.subject) ||
      !take(payload, at, r.sequence) || !take(payload, at, count)) {
    return std::nullopt;
  }
  for (std::uint16_t h = 0; h < count; ++h) {
    std::uint16_t name_size = 0;
    std::uint32_t value_size = 0;
    std::string_view name;
    std::string_view value;
    if (!take(payload, at, name_size) || !take_text(payload, at, name_size, name) ||
        !take(payload, at, value_size) || !take_text(payload, at, value_size, value)) {
      return std::nullopt;
    }
    r.headers.emplace_back(name, value);
  }
  r.data = payload.substr(at);
  return r;
}

bool subject_matches(std::string_view filter, std::string_view subject) {
  for (;;) {
    const std::size_t f_dot = filter.find('.');
    const std::size_t s_dot = subject.find('.');
    const std::string_view f_token = filter.substr(0, f_dot);
    const std::string_view s_token = subject.substr(0, s_dot);
    if (f_token == ">") return !s_token.empty();
    if (f_token != "*" && f_token != s_token) return false;
    if (f_dot == std::string_view::npos || s_dot == std::string_view::npos) {
      return f_dot == std::string_view::npos && s_dot == std::string_view::npos;
    }
    filter.remove_prefix(f_dot + 1);
    subject.remove_prefix(s_dot + 1);
  }
}

}  // namespace asp::tool

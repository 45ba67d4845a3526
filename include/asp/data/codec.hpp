#pragma once

// How values become the bytes of a record log and back: trivially copyable types as their
// bytes, strings as theirs, and any other type through a specialisation of asp::data::codec.

#include <asp/error.hpp>

#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

namespace asp::data {

/// Encodes and decodes values of T as record payloads. Specialise it for your own types:
///
///     template <> struct asp::data::codec<order> {
///       static void encode(const order& o, std::string& out);   // appends o's bytes
///       static order decode(std::string_view bytes);             // throws on bad bytes
///     };
///
/// The primary template handles trivially copyable types (their bytes, in the machine's
/// order: a log is read back on the same kind of machine that wrote it).
template <class T, class = void>
struct codec {
  static_assert(std::is_trivially_copyable_v<T>,
                "asp::data::codec<T>: T is not trivially copyable; specialise asp::data::codec "
                "for it");
  static void encode(const T& value, std::string& out) {
    out.append(reinterpret_cast<const char*>(&value), sizeof(T));
  }
  static T decode(std::string_view bytes) {
    if (bytes.size() != sizeof(T)) {
      throw input_error("a payload of " + std::to_string(bytes.size()) + " bytes for a type of " +
                        std::to_string(sizeof(T)));
    }
    T value;
    std::memcpy(&value, bytes.data(), sizeof(T));
    return value;
  }
};

/// Strings are their bytes.
template <>
struct codec<std::string> {
  static void encode(const std::string& value, std::string& out) { out += value; }
  static std::string decode(std::string_view bytes) { return std::string(bytes); }
};

}  // namespace asp::data

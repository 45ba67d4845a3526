#pragma once

// CRC-32C (Castagnoli), the checksum of every record in a record log: hardware-accelerated
// with SSE 4.2 when the CPU has it (chosen once, at run time), a table-driven fallback
// otherwise. Check value: crc32c("123456789") == 0xE3069283.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace asp::data {

/// The CRC-32C of `size` bytes at `data`, continuing from `crc` (the CRC of what came before;
/// 0 to start).
std::uint32_t crc32c(const void* data, std::size_t size, std::uint32_t crc = 0) noexcept;

/// The CRC-32C of `bytes`. (To continue from a previous CRC, use the form above: a second
/// overload taking a CRC would make `crc32c(pointer, size)` ambiguous.)
inline std::uint32_t crc32c(std::string_view bytes) noexcept {
  return crc32c(bytes.data(), bytes.size(), 0);
}

/// Whether crc32c uses the SSE 4.2 instruction on this machine.
bool crc32c_is_hardware() noexcept;

namespace detail {
/// The table-driven fallback, whatever the CPU (for tests and benchmarks).
std::uint32_t crc32c_software(const void* data, std::size_t size, std::uint32_t crc) noexcept;
}  // namespace detail

}  // namespace asp::data

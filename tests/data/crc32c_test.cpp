// asp::data::crc32c: the standard check value, both implementations, and continuation.
#include <asp/data/crc32c.hpp>

#include <gtest/gtest.h>

#include <string>

namespace {

TEST(Crc32c, TheStandardCheckValue) {
  EXPECT_EQ(asp::data::crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(asp::data::detail::crc32c_software("123456789", 9, 0), 0xE3069283u);
  EXPECT_EQ(asp::data::crc32c(""), 0u);
}

TEST(Crc32c, KnownVectorsOfRfc3720) {
  // iSCSI (RFC 3720, B.4): 32 bytes of zeros, of ones, ascending and descending.
  std::string zeros(32, '\0');
  std::string ones(32, '\xff');
  std::string ascending(32, '\0');
  std::string descending(32, '\0');
  for (int i = 0; i < 32; ++i) {
    ascending[static_cast<std::size_t>(i)] = static_cast<char>(i);
    descending[static_cast<std::size_t>(i)] = static_cast<char>(31 - i);
  }
  EXPECT_EQ(asp::data::crc32c(zeros), 0x8A9136AAu);
  EXPECT_EQ(asp::data::crc32c(ones), 0x62A8AB43u);
  EXPECT_EQ(asp::data::crc32c(ascending), 0x46DD794Eu);
  EXPECT_EQ(asp::data::crc32c(descending), 0x113FDB5Cu);
}

TEST(Crc32c, HardwareAndSoftwareAgreeAtEveryLengthAndAlignment) {
  std::string bytes;
  for (int i = 0; i < 300; ++i) bytes.push_back(static_cast<char>((i * 131 + 7) & 0xff));
  for (std::size_t start = 0; start < 9; ++start) {
    for (std::size_t n = 0; start + n <= bytes.size(); n += 7) {
      ASSERT_EQ(asp::data::crc32c(bytes.data() + start, n),
                asp::data::detail::crc32c_software(bytes.data() + start, n, 0))
          << "start " << start << ", length " << n;
    }
  }
}

TEST(Crc32c, ContinuesFromAPreviousValue) {
  const std::string all = "the quick brown fox jumps over the lazy dog";
  for (std::size_t cut = 0; cut <= all.size(); ++cut) {
    const std::uint32_t first = asp::data::crc32c(all.substr(0, cut));
    const std::string rest = all.substr(cut);
    EXPECT_EQ(asp::data::crc32c(rest.data(), rest.size(), first), asp::data::crc32c(all));
  }
}

}  // namespace

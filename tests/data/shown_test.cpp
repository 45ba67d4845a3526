// asp::data::shown and escaped: what a message may echo of untrusted text.
#include <asp/data/log.hpp>
#include <asp/data/shown.hpp>

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace {

using asp::data::escaped;
using asp::data::shown;
using asp::data::shown_list;

TEST(Shown, PrintableTextAndUtf8StayAsTheyAre) {
  EXPECT_EQ(shown("bid"), "'bid'");
  EXPECT_EQ(shown("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\x88"),
            "'caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\x88'");
  EXPECT_EQ(escaped("a b"), "a b");
  EXPECT_EQ(shown(""), "''");
}

TEST(Shown, WhatATerminalWouldObeyIsEscaped) {
  EXPECT_EQ(shown("\x1b[31mred\x1b[0m"), "'\\x1b[31mred\\x1b[0m'");
  EXPECT_EQ(shown("a\nb\rc\td\\e'f"), "'a\\nb\\rc\\td\\\\e\\'f'");
  EXPECT_EQ(escaped("it's"), "it's");  // a quote needs no escape outside quotes
  EXPECT_EQ(shown(std::string("\0\x7f", 2)), "'\\x00\\x7f'");
  // C1 controls (U+009B is a CSI), bytes that are not UTF-8, overlong and cut sequences.
  EXPECT_EQ(shown("\xc2\x9b"
                  "2J"),
            "'\\xc2\\x9b2J'");
  EXPECT_EQ(shown("\xff\xfe"), "'\\xff\\xfe'");
  EXPECT_EQ(shown("\xc0\xaf"), "'\\xc0\\xaf'");
  EXPECT_EQ(shown("\xe2\x82"), "'\\xe2\\x82'");
  EXPECT_EQ(shown("\xed\xa0\x80"), "'\\xed\\xa0\\x80'");  // a surrogate
}

// What JSON may hold: UTF-8, C1 controls included; anything else repaired byte by byte.
TEST(Shown, AsUtf8ReplacesEveryByteThatIsNotUtf8) {
  using asp::data::as_utf8;
  const std::string replacement = "\xef\xbf\xbd";
  EXPECT_EQ(as_utf8("a\xff"
                    "b"),
            "a" + replacement + "b");
  EXPECT_EQ(as_utf8("\xe2\x82"
                    "x"),
            replacement + replacement + "x");
  EXPECT_EQ(as_utf8("\xc3\xa9\x80"), "\xc3\xa9" + replacement);
  EXPECT_EQ(as_utf8("\xc2\x9b"), "\xc2\x9b");  // a C1 control is a code point
  EXPECT_EQ(as_utf8("plain"), "plain");
}

TEST(Shown, LongTextIsCutWithItsSize) {
  const std::string big(50'000'000, 'x');
  EXPECT_EQ(shown(big, 5), "'xxxxx...' (50000000 bytes)");
  EXPECT_EQ(escaped(big, 3), "xxx... (50000000 bytes)");
  EXPECT_EQ(shown("abcdef", 6), "'abcdef'");
  // A UTF-8 sequence is never split at the cut: its bytes are escaped instead.
  EXPECT_EQ(shown("ab\xc3\xa9", 3), "'ab\\xc3...' (4 bytes)");
}

TEST(Shown, ListsAreCut) {
  EXPECT_EQ(shown_list({"a", "b"}), "'a', 'b'");
  EXPECT_EQ(shown_list({"a", "b", "c", "d"}, 2), "'a', 'b' and 2 more");
  EXPECT_EQ(shown_list({}), "");
}

TEST(Sniff, LogsDamagedLogsBinaryAndText) {
  using asp::data::file_kind;
  using asp::data::sniff;
  EXPECT_EQ(sniff("ASPLOG 1\ncreator: asp\n"), file_kind::record_log);
  EXPECT_EQ(sniff("ASPLXG 1\ncreator: asp\n"), file_kind::damaged_record_log);
  using namespace std::string_view_literals;
  EXPECT_EQ(sniff("\0\0\0\0\0\0\0\ncreator: asp\nstream: x\ncrc: 01234567\n"sv),
            file_kind::damaged_record_log);
  EXPECT_EQ(sniff(std::string("PK\x03\x04\0\0", 6)), file_kind::binary);
  EXPECT_EQ(sniff("time,bid\n2025-01-01,1\n"), file_kind::text);
  EXPECT_EQ(sniff(""), file_kind::text);
}

}  // namespace

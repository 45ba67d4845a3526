// asp/utf8.hpp: which bytes are UTF-8 text.
#include <asp/utf8.hpp>

#include <gtest/gtest.h>

#include <string>

namespace {

TEST(Utf8, SequencesAreMeasuredAndWhatIsNotUtf8IsZero) {
  EXPECT_EQ(asp::utf8_sequence(""), 0u);
  EXPECT_EQ(asp::utf8_sequence("a"), 1u);
  EXPECT_EQ(asp::utf8_sequence(std::string(1, '\0')), 1u);
  EXPECT_EQ(asp::utf8_sequence("\xc3\xa9x"), 2u);
  EXPECT_EQ(asp::utf8_sequence("\xe2\x82\xac"), 3u);
  EXPECT_EQ(asp::utf8_sequence("\xf0\x9f\x93\x88"), 4u);
  EXPECT_EQ(asp::utf8_sequence("\xc2\x9b"), 2u);          // a C1 control is a code point
  EXPECT_EQ(asp::utf8_sequence("\x80"), 0u);              // a continuation byte alone
  EXPECT_EQ(asp::utf8_sequence("\xc0\xaf"), 0u);          // overlong
  EXPECT_EQ(asp::utf8_sequence("\xe0\x80\xaf"), 0u);      // overlong
  EXPECT_EQ(asp::utf8_sequence("\xe2\x82"), 0u);          // cut short
  EXPECT_EQ(asp::utf8_sequence("\xed\xa0\x80"), 0u);      // a surrogate
  EXPECT_EQ(asp::utf8_sequence("\xf4\x90\x80\x80"), 0u);  // past U+10FFFF
  EXPECT_EQ(asp::utf8_sequence("\xff"), 0u);
}

TEST(Utf8, TextIsValidWhenEverySequenceIs) {
  EXPECT_TRUE(asp::valid_utf8(""));
  EXPECT_TRUE(asp::valid_utf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\x88"));
  EXPECT_TRUE(asp::valid_utf8(std::string("\0\x01\xc2\x9b", 4)));
  EXPECT_FALSE(asp::valid_utf8("a\xff"));
  EXPECT_FALSE(asp::valid_utf8("ok\xe2\x82"));
  EXPECT_FALSE(asp::valid_utf8("\xed\xa0\x80"));
}

}  // namespace

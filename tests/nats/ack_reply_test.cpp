// The delivery metadata a JetStream message carries in its reply subject, in both of the
// server's formats, read without the library's allocation; and the JSON strings of the API
// requests the sources and publishers make.

#include "nats_support.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace {

using asp::nats::detail::parse_ack_reply;

TEST(NatsAckReply, VersionOneHasStreamConsumerAndFiveNumbers) {
  std::uint64_t seq = 0;
  std::int64_t ns = 0;
  std::uint64_t pending = 0;
  ASSERT_TRUE(
      parse_ack_reply("$JS.ACK.TRADES.kPz3X.1.1042.17.1735689600123456789.958", seq, ns, pending));
  EXPECT_EQ(seq, 1042u);
  EXPECT_EQ(ns, 1735689600123456789);
  EXPECT_EQ(pending, 958u);
}

TEST(NatsAckReply, VersionTwoAddsDomainAccountAndAToken) {
  std::uint64_t seq = 0;
  std::int64_t ns = 0;
  std::uint64_t pending = 0;
  ASSERT_TRUE(parse_ack_reply("$JS.ACK.hub.ACCHASH.TRADES.kPz3X.1.7.3.1735689600000000001.0.r4nd",
                              seq, ns, pending));
  EXPECT_EQ(seq, 7u);
  EXPECT_EQ(ns, 1735689600000000001);
  EXPECT_EQ(pending, 0u);
}

TEST(NatsAckReply, AnythingElseIsRefused) {
  std::uint64_t seq = 0;
  std::int64_t ns = 0;
  std::uint64_t pending = 0;
  EXPECT_FALSE(parse_ack_reply(nullptr, seq, ns, pending));
  EXPECT_FALSE(parse_ack_reply("_INBOX.abc", seq, ns, pending));
  EXPECT_FALSE(parse_ack_reply("$JS.ACK.TRADES.c.1.2.3.4", seq, ns, pending));
  EXPECT_FALSE(parse_ack_reply("$JS.ACK.TRADES.c.1.x.3.4.5", seq, ns, pending));
  EXPECT_FALSE(parse_ack_reply("$JS.ACK.TRADES.c.1.2.3.4.-5", seq, ns, pending));
}

// Subjects and stream names go into API requests as JSON strings: quotes, backslashes and
// control characters (which JSON does not allow raw) escaped, everything else as it is.
TEST(NatsJson, StringsEscapeQuotesBackslashesAndControlCharacters) {
  using asp::nats::detail::json_string;
  EXPECT_EQ(json_string("trades.>"), "\"trades.>\"");
  EXPECT_EQ(json_string(""), "\"\"");
  EXPECT_EQ(json_string("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(json_string(std::string("x\ny\tz\x01\x1f", 7)), "\"x\\u000ay\\u0009z\\u0001\\u001f\"");
  EXPECT_EQ(json_string("pr\xc3\xa9x"), "\"pr\xc3\xa9x\"");  // UTF-8 as it is
}

}  // namespace

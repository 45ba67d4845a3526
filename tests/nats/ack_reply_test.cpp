// The delivery metadata a JetStream message carries in its reply subject, in both of the
// server's formats, read without the library's allocation.

#include "nats_support.hpp"

#include <gtest/gtest.h>

#include <cstdint>

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

}  // namespace

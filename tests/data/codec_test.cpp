// asp::data::codec: payload bytes for trivially copyable types, strings and users' types.
#include <asp/data/codec.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace {

struct tick {
  double price;
  std::int32_t size;
};

struct order {
  std::string symbol;
  int quantity = 0;
};

}  // namespace

// A user's codec: "SYMBOL:QUANTITY".
template <>
struct asp::data::codec<order> {
  static void encode(const order& o, std::string& out) {
    out += o.symbol + ":" + std::to_string(o.quantity);
  }
  static order decode(std::string_view bytes) {
    const std::size_t colon = bytes.find(':');
    if (colon == std::string_view::npos) throw std::invalid_argument("no ':' in an order");
    return {std::string(bytes.substr(0, colon)), std::stoi(std::string(bytes.substr(colon + 1)))};
  }
};

namespace {

TEST(Codec, TriviallyCopyableValuesAreTheirBytes) {
  std::string bytes;
  asp::data::codec<tick>::encode({1.25, -7}, bytes);
  ASSERT_EQ(bytes.size(), sizeof(tick));
  const tick back = asp::data::codec<tick>::decode(bytes);
  EXPECT_EQ(back.price, 1.25);
  EXPECT_EQ(back.size, -7);
  try {
    asp::data::codec<tick>::decode("abc");
    ADD_FAILURE();
  } catch (const asp::input_error& e) {
    EXPECT_EQ(std::string(e.what()),
              "a payload of 3 bytes for a type of " + std::to_string(sizeof(tick)));
  }
}

TEST(Codec, StringsAndUsersTypes) {
  std::string bytes;
  asp::data::codec<std::string>::encode("hello", bytes);
  EXPECT_EQ(bytes, "hello");
  EXPECT_EQ(asp::data::codec<std::string>::decode(bytes), "hello");
  bytes.clear();
  asp::data::codec<order>::encode({"ACME", 12}, bytes);
  EXPECT_EQ(bytes, "ACME:12");
  const order o = asp::data::codec<order>::decode(bytes);
  EXPECT_EQ(o.symbol, "ACME");
  EXPECT_EQ(o.quantity, 12);
}

}  // namespace

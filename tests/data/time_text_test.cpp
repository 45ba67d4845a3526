// asp::data time parsing and formatting: ISO 8601 and epoch counts, exact to the nanosecond.
#include <asp/data/time_text.hpp>

#include <gtest/gtest.h>

#include <string>

#include "test_support.hpp"

namespace {

using namespace asp::testing;
using asp::data::time_format;

asp::time_point iso(std::string_view text) {
  std::string why;
  const auto t = asp::data::parse_iso8601(text, &why);
  EXPECT_TRUE(t.has_value()) << text << ": " << why;
  return t.value_or(asp::time_point{});
}

std::string refusal(std::string_view text, time_format format = time_format::iso8601) {
  std::string why;
  EXPECT_FALSE(asp::data::parse_time(text, format, &why).has_value()) << text;
  return why;
}

TEST(TimeText, Iso8601FormsAllMeanTheSameInstant) {
  const asp::time_point expected = t0 + 9h + 30min + 1s + 250ms;  // t0 is 2025-01-01T00:00Z
  EXPECT_EQ(iso("2025-01-01T09:30:01.25Z"), expected);
  EXPECT_EQ(iso("2025-01-01T09:30:01.250000000Z"), expected);
  EXPECT_EQ(iso("2025-01-01t09:30:01,25z"), expected);
  EXPECT_EQ(iso("2025-01-01 09:30:01.25"), expected);  // no zone: UTC
  EXPECT_EQ(iso("2025-01-01T11:30:01.25+02:00"), expected);
  EXPECT_EQ(iso("2025-01-01T11:30:01.25+0200"), expected);
  EXPECT_EQ(iso("2025-01-01T11:30:01.25+02"), expected);
  EXPECT_EQ(iso("2025-01-01T04:00:01.25-05:30"), expected);
}

TEST(TimeText, Iso8601OffsetsAndDatesAlone) {
  EXPECT_EQ(iso("2025-01-01T04:00:01-05:30"), t0 + 9h + 30min + 1s);
  EXPECT_EQ(iso("2025-01-01"), t0);
  EXPECT_EQ(iso("2025-01-01T00:00"), t0);
  EXPECT_EQ(iso("2024-12-31T23:00-01:00"), t0);  // crosses the day and the year
  EXPECT_EQ(iso("2024-02-29T00:00Z"), t0 - std::chrono::days(307));
}

TEST(TimeText, Iso8601KeepsEveryNanosecondAndTheWholeRange) {
  EXPECT_EQ(iso("2025-01-01T00:00:00.000000001Z"), t0 + 1ns);
  EXPECT_EQ(iso("2025-01-01T00:00:00.123456789Z"), t0 + 123456789ns);
  EXPECT_EQ(iso("1970-01-01T00:00:00Z"), asp::time_point{});
  EXPECT_EQ(iso("1969-12-31T23:59:59.999999999Z"), asp::time_point{} - 1ns);
  EXPECT_EQ(iso("2262-04-11T23:47:16.854775807Z"), asp::time_point::max());
  EXPECT_EQ(iso("1677-09-21T00:12:43.145224192Z"), asp::time_point::min());
}

TEST(TimeText, Iso8601RefusalsSayWhatWasExpectedAndWhere) {
  EXPECT_EQ(refusal("2025-1-01"), "expected a two-digit month at character 7, found '-'");
  EXPECT_EQ(refusal("2025-02-30"), "no such date: 2025-02-30");
  EXPECT_EQ(refusal("2025-01-01T24:00"),
            "expected an hour from 00 to 23 at character 14, found ':'");
  EXPECT_EQ(refusal("2025-01-01T09:30:60"),
            "expected seconds from 00 to 59 at character 20, found the end");
  EXPECT_EQ(refusal("2025-01-01T09:30:00.1234567891Z"),
            "expected at most 9 fractional digits (nanoseconds) at character 30, found '1'");
  EXPECT_EQ(refusal("2025-01-01T09:30:00."),
            "expected a digit after the decimal point at character 21, found the end");
  EXPECT_EQ(refusal("2025-01-01T09:30:00Z junk"),
            "expected nothing after the zone at character 21, found ' '");
  EXPECT_EQ(refusal("2025-01-01T09:30:00 UTC"),
            "expected 'Z', '+HH:MM', '-HH:MM' or the end at character 20, found ' '");
  EXPECT_EQ(refusal("2300-01-01"), "outside the range of times (1677-09-21 to 2262-04-11)");
  EXPECT_EQ(refusal(""), "expected a four-digit year at character 1, found the end");
}

TEST(TimeText, EpochCountsInEachUnitAreExact) {
  using asp::data::parse_epoch;
  const asp::time_point t = t0 + 1500ms;
  const std::string s = std::to_string((t0 - asp::time_point{}) / 1s);
  EXPECT_EQ(parse_epoch(s + ".5", time_format::epoch_seconds), t0 + 500ms);
  EXPECT_EQ(parse_epoch("1735689601.5", time_format::epoch_seconds), t);
  EXPECT_EQ(parse_epoch("1735689601500", time_format::epoch_millis), t);
  EXPECT_EQ(parse_epoch("1735689601500.000001", time_format::epoch_millis), t + 1ns);
  EXPECT_EQ(parse_epoch("1735689601500000", time_format::epoch_micros), t);
  EXPECT_EQ(parse_epoch("1735689601500000000", time_format::epoch_nanos), t);
  EXPECT_EQ(parse_epoch("-1.000000001", time_format::epoch_seconds),
            asp::time_point{} - 1000000001ns);
  EXPECT_EQ(parse_epoch("0.1", time_format::epoch_seconds), asp::time_point{} + 100ms);
}

TEST(TimeText, EpochRefusals) {
  EXPECT_EQ(refusal("1.5", time_format::epoch_nanos),
            "expected an integer count of nanoseconds at character 3, found '5'");
  EXPECT_EQ(refusal("1.0000000001", time_format::epoch_seconds),
            "expected no digits beyond the nanosecond at character 12, found '1'");
  EXPECT_EQ(refusal("12x", time_format::epoch_millis),
            "expected a digit, '.' or the end at character 3, found 'x'");
  EXPECT_EQ(refusal("", time_format::epoch_micros),
            "expected a digit at character 1, found the end");
  EXPECT_EQ(refusal("9223372036854775808", time_format::epoch_nanos),
            "outside the range of times (1677-09-21 to 2262-04-11)");
  EXPECT_EQ(refusal("10000000000", time_format::epoch_seconds),
            "outside the range of times (1677-09-21 to 2262-04-11)");
}

TEST(TimeText, FormatAndParseAgreeInEveryFormat) {
  const asp::time_point samples[] = {t0,
                                     t0 + 1ns,
                                     t0 + 123456789ns,
                                     asp::time_point{} - 1500ms,
                                     asp::time_point::min(),
                                     asp::time_point::max()};
  for (const time_format f :
       {time_format::iso8601, time_format::epoch_seconds, time_format::epoch_millis,
        time_format::epoch_micros, time_format::epoch_nanos}) {
    for (const asp::time_point t : samples) {
      const std::string text = asp::data::format_time(t, f);
      EXPECT_EQ(asp::data::parse_time(text, f), t) << text;
      EXPECT_EQ(asp::data::time_format_named(asp::data::to_string(f)), f);
    }
  }
  EXPECT_EQ(asp::data::format_time(t0 + 1500ms, time_format::epoch_seconds), "1735689601.5");
  EXPECT_EQ(asp::data::format_time(t0, time_format::epoch_millis), "1735689600000");
  EXPECT_EQ(asp::data::format_time(asp::time_point{} - 1500ms, time_format::epoch_seconds), "-1.5");
  EXPECT_EQ(asp::data::format_time(t0 + 1ns, time_format::iso8601),
            "2025-01-01T00:00:00.000000001Z");
  EXPECT_EQ(asp::data::time_format_named("minutes"), std::nullopt);
}

}  // namespace

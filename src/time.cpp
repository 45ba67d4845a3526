#include <asp/time.hpp>

#include <cstdint>
#include <cstdio>

namespace asp {

namespace {

struct civil_time {
  std::chrono::year_month_day date;
  std::chrono::hh_mm_ss<duration> clock;
};

// In whole days and the nanoseconds after midnight, by integer division: `t - floor<days>(t)`
// would overflow near the ends of the range (the day before time_point::min() is not a
// time_point).
civil_time split(time_point t) {
  constexpr std::int64_t per_day = std::int64_t{86'400} * 1'000'000'000;
  const std::int64_t count = t.time_since_epoch().count();
  std::int64_t day = count / per_day;
  std::int64_t rest = count % per_day;
  if (rest < 0) {
    --day;
    rest += per_day;
  }
  const std::chrono::sys_days date{std::chrono::days{day}};
  return {std::chrono::year_month_day{date}, std::chrono::hh_mm_ss<duration>{duration{rest}}};
}

}  // namespace

std::string to_string(time_point t) {
  const auto [date, clock] = split(t);
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02uT%02d:%02d:%02d.%09lldZ",
                static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                static_cast<unsigned>(date.day()), static_cast<int>(clock.hours().count()),
                static_cast<int>(clock.minutes().count()),
                static_cast<int>(clock.seconds().count()),
                static_cast<long long>(clock.subseconds().count()));
  return buffer;
}

std::string format_time_of_day(time_point t) {
  const auto [date, clock] = split(t);
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%02d:%02d:%02d.%06lld",
                static_cast<int>(clock.hours().count()), static_cast<int>(clock.minutes().count()),
                static_cast<int>(clock.seconds().count()),
                static_cast<long long>(clock.subseconds().count() / 1000));
  return buffer;
}

}  // namespace asp

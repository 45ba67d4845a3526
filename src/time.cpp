#include <asp/time.hpp>

#include <cstdio>

namespace asp {

namespace {

struct civil_time {
  std::chrono::year_month_day date;
  std::chrono::hh_mm_ss<duration> clock;
};

civil_time split(time_point t) {
  const auto day = std::chrono::floor<std::chrono::days>(t);
  return {std::chrono::year_month_day{day}, std::chrono::hh_mm_ss<duration>{t - day}};
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

#include "conf/duration.hpp"

#include <array>
#include <cctype>
#include <cstdint>
#include <limits>

namespace svcproxy::conf {
namespace {

struct Unit {
  std::string_view suffix;
  std::int64_t milliseconds;
};

// Longest suffix first so "ms" is not read as "m" followed by garbage.
constexpr std::array<Unit, 4> units = {{{"ms", 1}, {"h", 3600000}, {"m", 60000}, {"s", 1000}}};

// Reads the unit at the front of `text`, advancing past it; nullopt for an unknown unit.
std::optional<std::int64_t> take_unit(std::string_view& text) {
  for (const auto& unit : units) {
    if (text.starts_with(unit.suffix)) {
      text.remove_prefix(unit.suffix.size());
      return unit.milliseconds;
    }
  }
  return std::nullopt;
}

// Reads the digits at the front of `text`; nullopt when there are none or they overflow.
std::optional<std::int64_t> take_number(std::string_view& text) {
  std::int64_t value = 0;
  std::size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) {
    if (value > (std::numeric_limits<std::int64_t>::max() - 9) / 10) return std::nullopt;
    value = value * 10 + (text[digits] - '0');
    ++digits;
  }
  if (digits == 0) return std::nullopt;
  text.remove_prefix(digits);
  return value;
}

}  // namespace

std::optional<Duration> parse_duration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  // A year of milliseconds bounds each term, so the sum cannot overflow.
  constexpr std::int64_t limit = 366LL * 24 * 3600 * 1000;
  std::int64_t total = 0;
  while (!text.empty()) {
    auto number = take_number(text);
    if (!number) return std::nullopt;
    auto unit = take_unit(text);
    if (!unit || *number > limit / *unit) return std::nullopt;
    total += *number * *unit;
    if (total > limit) return std::nullopt;
  }
  return Duration(total);
}

std::string format_duration(Duration duration) {
  const std::int64_t ms = duration.count();
  if (ms == 0) return "0s";
  if (ms % 3600000 == 0) return std::to_string(ms / 3600000) + "h";
  if (ms % 60000 == 0) return std::to_string(ms / 60000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

}  // namespace svcproxy::conf

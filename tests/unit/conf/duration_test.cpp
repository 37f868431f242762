#include "conf/duration.hpp"

#include <doctest/doctest.h>

namespace svcproxy::conf {
namespace {

using namespace std::chrono_literals;

TEST_CASE("durations in ms, s, m, h and combinations") {
  CHECK(parse_duration("500ms") == Duration(500ms));
  CHECK(parse_duration("2s") == Duration(2s));
  CHECK(parse_duration("5m") == Duration(5min));
  CHECK(parse_duration("1h") == Duration(1h));
  CHECK(parse_duration("1m30s") == Duration(90s));
  CHECK(parse_duration("1h2m3s4ms") == Duration(1h + 2min + 3s + 4ms));
  CHECK(parse_duration("0s") == Duration(0));
}

TEST_CASE("anything else is rejected") {
  for (const char* bad : {"", "5", "s", "-1s", "1.5s", "1 s", "1d", "1sm", "5M", "2s ", "ms",
                          "99999999999999999999s", "10000h"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_duration(bad).has_value());
  }
}

TEST_CASE("format_duration writes the shortest exact form and round-trips") {
  CHECK(format_duration(1500ms) == "1500ms");
  CHECK(format_duration(120000ms) == "2m");
  CHECK(format_duration(2h) == "2h");
  CHECK(format_duration(30s) == "30s");
  CHECK(format_duration(0ms) == "0s");
  for (const char* text : {"500ms", "2s", "90s", "5m", "1h"})
    CHECK(format_duration(*parse_duration(text)) == text);
}

}  // namespace
}  // namespace svcproxy::conf

// A condition that repeats every retry is logged once per interval, with a count.
#include "server/log/log.hpp"

#include <doctest/doctest.h>

using namespace svcproxy::server;
using namespace std::chrono_literals;

TEST_CASE("LogThrottle: one line per interval, counting what it kept quiet") {
  LogThrottle throttle(1s);
  const auto t0 = std::chrono::steady_clock::time_point{} + 100s;
  CHECK(throttle.admit(t0) == 0u);  // the first occurrence is logged at once
  for (int i = 1; i <= 9; ++i)
    CHECK_FALSE(throttle.admit(t0 + i * 100ms));  // EMFILE retries every 100 ms
  CHECK(throttle.admit(t0 + 1s) == 9u);
  CHECK_FALSE(throttle.admit(t0 + 1500ms));
  CHECK(throttle.admit(t0 + 5s) == 1u);
}

#include "lb/health_state.hpp"

#include <doctest/doctest.h>

namespace svcproxy::lb {
namespace {

TEST_CASE("health: starts not ready; the first success makes it ready with threshold 1") {
  HealthState health(1, 3);
  CHECK_FALSE(health.ready());
  CHECK(health.record(true));
  CHECK(health.ready());
  CHECK_FALSE(health.record(true));  // no transition, nothing to log
}

TEST_CASE("health: successThreshold consecutive successes are needed to rise") {
  HealthState health(3, 1);
  CHECK_FALSE(health.record(true));
  CHECK_FALSE(health.record(true));
  CHECK_FALSE(health.record(false));  // breaks the streak
  CHECK_FALSE(health.record(true));
  CHECK_FALSE(health.record(true));
  CHECK(health.record(true));
  CHECK(health.ready());
}

TEST_CASE("health: failureThreshold consecutive failures are needed to fall") {
  HealthState health(1, 3, /*initially_ready=*/true);
  CHECK_FALSE(health.record(false));
  CHECK_FALSE(health.record(false));
  CHECK_FALSE(health.record(true));  // one success resets the failure count
  CHECK_FALSE(health.record(false));
  CHECK_FALSE(health.record(false));
  CHECK(health.record(false));
  CHECK_FALSE(health.ready());
  CHECK_FALSE(health.record(false));
}

TEST_CASE("health: failures before the first success are not transitions") {
  HealthState health(1, 3);
  for (int i = 0; i < 5; ++i)
    CHECK_FALSE(health.record(false));
  CHECK_FALSE(health.ready());
}

TEST_CASE("health: thresholds below 1 act as 1") {
  HealthState health(0, 0);
  CHECK(health.record(true));
  CHECK(health.record(false));
}

}  // namespace
}  // namespace svcproxy::lb

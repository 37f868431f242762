#include "lb/outlier_detection.hpp"

#include <doctest/doctest.h>

#include <optional>
#include <vector>

#include "tests/unit/lb/test_endpoints.hpp"

namespace svcproxy::lb {
namespace {

using std::chrono::seconds;

const Clock::time_point t0 = Clock::time_point(seconds(1000));

conf::OutlierDetection defaults() {
  return conf::OutlierDetection{};
}  // 5, 5, 30s, 300s, 50%

// Reports `count` outcomes and returns the last ejection, if any.
std::optional<Ejection> fail(OutlierDetector& detector, const std::vector<EndpointPtr>& endpoints,
                             std::size_t index, Outcome outcome, int count, Clock::time_point now) {
  std::optional<Ejection> ejection;
  for (int i = 0; i < count; ++i)
    if (auto e = detector.report(*endpoints[index], outcome, now, endpoints)) ejection = e;
  return ejection;
}

TEST_CASE("outlier: backoff doubles per ejection and stops at the cap") {
  conf::OutlierDetection settings = defaults();
  CHECK(ejection_duration(settings, 0) == seconds(30));
  CHECK(ejection_duration(settings, 1) == seconds(60));
  CHECK(ejection_duration(settings, 3) == seconds(240));
  CHECK(ejection_duration(settings, 4) == seconds(300));
  CHECK(ejection_duration(settings, 1000) == seconds(300));
  settings.max_ejection_time = seconds(10);  // below base: base wins, as in Envoy
  CHECK(ejection_duration(settings, 2) == seconds(30));
}

TEST_CASE("outlier: at most half the endpoints, rounded down") {
  const auto settings = defaults();
  CHECK(max_ejected(settings, 1) == 0);
  CHECK(max_ejected(settings, 2) == 1);
  CHECK(max_ejected(settings, 3) == 1);
  CHECK(max_ejected(settings, 10) == 5);
}

TEST_CASE("outlier: consecutive connect failures eject for base_ejection_time") {
  OutlierDetector detector(defaults());
  const auto endpoints = test::make_endpoints(3);
  CHECK_FALSE(fail(detector, endpoints, 0, Outcome::ConnectFailure, 4, t0));
  const auto ejection = fail(detector, endpoints, 0, Outcome::Reset, 1, t0);
  REQUIRE(ejection);
  CHECK(ejection->cause == Outcome::Reset);
  CHECK(ejection->consecutive == 5);
  CHECK(ejection->ejection_number == 1);
  CHECK(ejection->duration == seconds(30));
  CHECK(endpoints[0]->ejected(t0 + seconds(29)));
  CHECK_FALSE(endpoints[0]->ejected(t0 + seconds(30)));
}

TEST_CASE("outlier: a success resets the consecutive count") {
  OutlierDetector detector(defaults());
  const auto endpoints = test::make_endpoints(3);
  CHECK_FALSE(fail(detector, endpoints, 0, Outcome::ConnectFailure, 4, t0));
  detector.report(*endpoints[0], Outcome::Success, t0, endpoints);
  CHECK_FALSE(fail(detector, endpoints, 0, Outcome::ConnectFailure, 4, t0));
  CHECK_FALSE(endpoints[0]->ejected(t0));
}

TEST_CASE("outlier: consecutive 5xx eject on their own threshold") {
  conf::OutlierDetection settings = defaults();
  settings.consecutive_5xx = 3;
  OutlierDetector detector(settings);
  const auto endpoints = test::make_endpoints(2);
  CHECK_FALSE(fail(detector, endpoints, 1, Outcome::Http5xx, 2, t0));
  const auto ejection = fail(detector, endpoints, 1, Outcome::Http5xx, 1, t0);
  REQUIRE(ejection);
  CHECK(ejection->cause == Outcome::Http5xx);
}

TEST_CASE("outlier: each re-ejection doubles; failures while ejected do not extend it") {
  OutlierDetector detector(defaults());
  const auto endpoints = test::make_endpoints(3);
  REQUIRE(fail(detector, endpoints, 0, Outcome::ConnectFailure, 5, t0));
  CHECK_FALSE(fail(detector, endpoints, 0, Outcome::ConnectFailure, 20, t0 + seconds(1)));
  CHECK(endpoints[0]->ejected_until() == t0 + seconds(30));
  Clock::time_point now = t0 + seconds(30);
  for (auto expected : {seconds(60), seconds(120), seconds(240), seconds(300), seconds(300)}) {
    const auto ejection = fail(detector, endpoints, 0, Outcome::ConnectFailure, 5, now);
    REQUIRE(ejection);
    CHECK(ejection->duration == expected);
    now += expected;
  }
}

TEST_CASE("outlier: the ejection count decays after max_ejection_time of good behaviour") {
  OutlierDetector detector(defaults());
  const auto endpoints = test::make_endpoints(3);
  REQUIRE(fail(detector, endpoints, 0, Outcome::ConnectFailure, 5, t0));           // until t0+30s
  detector.report(*endpoints[0], Outcome::Success, t0 + seconds(100), endpoints);  // too soon
  auto second = fail(detector, endpoints, 0, Outcome::ConnectFailure, 5, t0 + seconds(100));
  REQUIRE(second);
  CHECK(second->duration == seconds(60));                                          // until t0+160s
  detector.report(*endpoints[0], Outcome::Success, t0 + seconds(460), endpoints);  // 300s later
  auto third = fail(detector, endpoints, 0, Outcome::ConnectFailure, 5, t0 + seconds(460));
  REQUIRE(third);
  CHECK(third->ejection_number == 1);
  CHECK(third->duration == seconds(30));
}

TEST_CASE("outlier: never more than max_ejection_percent; ejected once there is room") {
  OutlierDetector detector(defaults());
  const auto endpoints = test::make_endpoints(4);  // at most 2 ejected
  CHECK(fail(detector, endpoints, 0, Outcome::ConnectFailure, 5, t0));
  CHECK(fail(detector, endpoints, 1, Outcome::ConnectFailure, 5, t0));
  CHECK_FALSE(fail(detector, endpoints, 2, Outcome::ConnectFailure, 50, t0));
  CHECK_FALSE(endpoints[2]->ejected(t0));
  // Endpoint 0 returns: the next failure of endpoint 2 takes its place.
  CHECK(fail(detector, endpoints, 2, Outcome::ConnectFailure, 1, t0 + seconds(30)));
}

TEST_CASE("outlier: a single-endpoint service is never ejected") {
  OutlierDetector detector(defaults());
  const auto endpoints = test::make_endpoints(1);
  CHECK_FALSE(fail(detector, endpoints, 0, Outcome::ConnectFailure, 100, t0));
  CHECK_FALSE(endpoints[0]->ejected(t0));
}

TEST_CASE("outlier: disabled does nothing; a zero threshold disables that kind") {
  conf::OutlierDetection settings = defaults();
  settings.enabled = false;
  OutlierDetector disabled(settings);
  const auto endpoints = test::make_endpoints(3);
  CHECK_FALSE(fail(disabled, endpoints, 0, Outcome::ConnectFailure, 100, t0));
  settings.enabled = true;
  settings.consecutive_5xx = 0;
  OutlierDetector no_5xx(settings);
  CHECK_FALSE(fail(no_5xx, endpoints, 0, Outcome::Http5xx, 100, t0));
}

}  // namespace
}  // namespace svcproxy::lb

#include "lb/backend.hpp"

#include <doctest/doctest.h>

#include <map>

#include "tests/unit/lb/test_endpoints.hpp"

namespace svcproxy::lb {
namespace {

using std::chrono::seconds;

const Clock::time_point t0 = Clock::time_point(seconds(1000));

EndpointPtr pick(const Backend& backend, Clock::time_point now = t0) {
  return backend.pick(PickRequest{"10.0.0.1", now, {}});
}

std::map<const Endpoint*, int> count_picks(const Backend& backend, int picks) {
  std::map<const Endpoint*, int> counts;
  for (int i = 0; i < picks; ++i)
    ++counts[pick(backend).get()];
  return counts;
}

TEST_CASE("backend: skips not-ready and ejected endpoints") {
  const auto endpoints = test::make_endpoints(3);
  endpoints[0]->set_ready(false);
  endpoints[1]->eject_until(t0 + seconds(5));
  Backend backend(BackendSettings{}, endpoints);
  const auto counts = count_picks(backend, 30);
  CHECK(counts.size() == 1);
  CHECK(counts.at(endpoints[2].get()) == 30);
  CHECK(pick(backend, t0 + seconds(5)) != nullptr);
}

TEST_CASE("backend: exclusion of endpoints already tried") {
  const auto endpoints = test::make_endpoints(2);
  Backend backend(BackendSettings{}, endpoints);
  const Endpoint* tried[] = {endpoints[0].get()};
  for (int i = 0; i < 5; ++i)
    CHECK(backend.pick(PickRequest{"", t0, tried}) == endpoints[1]);
  const Endpoint* both[] = {endpoints[0].get(), endpoints[1].get()};
  CHECK(backend.pick(PickRequest{"", t0, both}) == nullptr);
}

TEST_CASE("backend: terminating endpoints serve only when nothing else can") {
  const auto endpoints = test::make_endpoints(3);
  endpoints[0]->set_terminating();
  Backend backend(BackendSettings{}, endpoints);
  CHECK(count_picks(backend, 30).count(endpoints[0].get()) == 0);
  endpoints[1]->set_ready(false);
  endpoints[2]->set_ready(false);
  CHECK(pick(backend) == endpoints[0]);
  endpoints[0]->set_ready(false);  // terminating and unready: nothing
  CHECK(pick(backend) == nullptr);
}

TEST_CASE("backend: publishNotReadyAddresses ignores readiness but not ejection") {
  const auto endpoints = test::make_endpoints(2);
  for (auto& e : endpoints)
    e->set_ready(false);
  BackendSettings settings;
  settings.publish_not_ready_addresses = true;
  Backend backend(settings, endpoints);
  CHECK(count_picks(backend, 10).size() == 2);
  endpoints[0]->eject_until(t0 + seconds(1));
  CHECK(count_picks(backend, 10).size() == 1);
}

TEST_CASE("backend: least-connections avoids the busy endpoint") {
  const auto endpoints = test::make_endpoints(3);
  BackendSettings settings;
  settings.load_balancing = conf::LoadBalancing::LeastConnections;
  Backend backend(settings, endpoints);
  ActiveGuard busy(endpoints[0]);
  const auto counts = count_picks(backend, 20);
  CHECK(counts.count(endpoints[0].get()) == 0);
}

TEST_CASE("backend: report ejects through the Backend's endpoints and cap") {
  const auto endpoints = test::make_endpoints(2);
  BackendSettings settings;
  settings.outlier_detection.consecutive_failures = 2;
  Backend backend(settings, endpoints);
  CHECK_FALSE(backend.report(*endpoints[0], Outcome::ConnectFailure, t0));
  CHECK(backend.report(*endpoints[0], Outcome::ConnectFailure, t0));
  for (int i = 0; i < 5; ++i)
    CHECK(pick(backend) == endpoints[1]);
  // The other one may not follow: never more than half.
  CHECK_FALSE(backend.report(*endpoints[1], Outcome::ConnectFailure, t0));
  CHECK_FALSE(backend.report(*endpoints[1], Outcome::ConnectFailure, t0));
  CHECK(pick(backend) == endpoints[1]);
}

}  // namespace
}  // namespace svcproxy::lb

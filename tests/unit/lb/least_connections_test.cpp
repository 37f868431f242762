#include "lb/least_connections.hpp"

#include <doctest/doctest.h>

#include <array>

#include "tests/unit/lb/test_endpoints.hpp"

namespace svcproxy::lb {
namespace {

void set_active(Endpoint& endpoint, int count) {
  while (endpoint.active() < count)
    endpoint.add_active();
  while (endpoint.active() > count)
    endpoint.remove_active();
}

TEST_CASE("least-connections: picks the endpoint with the fewest active") {
  LeastConnections policy;
  const auto endpoints = test::make_endpoints(3);
  set_active(*endpoints[0], 5);
  set_active(*endpoints[1], 2);
  set_active(*endpoints[2], 7);
  for (int i = 0; i < 10; ++i)
    CHECK(policy.pick(endpoints, test::any_endpoint) == 1);
}

TEST_CASE("least-connections: ties rotate round-robin") {
  LeastConnections policy;
  const auto endpoints = test::make_endpoints(4);
  set_active(*endpoints[0], 9);  // never chosen; the other three tie at 3
  for (int i = 1; i < 4; ++i)
    set_active(*endpoints[i], 3);
  std::array<int, 4> counts{};
  for (int i = 0; i < 300; ++i)
    ++counts.at(policy.pick(endpoints, test::any_endpoint));
  CHECK(counts[0] == 0);
  // Equal shares: the endpoint after the loaded one must not also take that one's turns.
  CHECK(counts[1] == 100);
  CHECK(counts[2] == 100);
  CHECK(counts[3] == 100);
}

TEST_CASE("least-connections: idle endpoints share equally around an ineligible one") {
  LeastConnections policy;
  const auto endpoints = test::make_endpoints(3);
  const Endpoint* skipped = endpoints[0].get();  // e.g. not ready
  auto eligible = [&](const Endpoint& e) { return &e != skipped; };
  std::array<int, 3> counts{};
  for (int i = 0; i < 300; ++i)
    ++counts.at(policy.pick(endpoints, eligible));
  CHECK(counts == std::array<int, 3>{0, 150, 150});
}

TEST_CASE("least-connections: idle endpoints share equally") {
  LeastConnections policy;
  const auto endpoints = test::make_endpoints(3);
  std::array<int, 3> counts{};
  for (int i = 0; i < 300; ++i)
    ++counts.at(policy.pick(endpoints, test::any_endpoint));
  CHECK(counts == std::array<int, 3>{100, 100, 100});
}

TEST_CASE("least-connections: follows live counts as connections open") {
  LeastConnections policy;
  const auto endpoints = test::make_endpoints(3);
  std::array<int, 3> counts{};
  for (int i = 0; i < 30; ++i) {  // connections that never close: the load stays level
    const std::size_t chosen = policy.pick(endpoints, test::any_endpoint);
    endpoints[chosen]->add_active();
    ++counts.at(chosen);
  }
  CHECK(counts == std::array<int, 3>{10, 10, 10});
}

TEST_CASE("least-connections: skips ineligible even when least loaded") {
  LeastConnections policy;
  const auto endpoints = test::make_endpoints(3);
  set_active(*endpoints[1], 4);
  set_active(*endpoints[2], 6);
  const Endpoint* skipped = endpoints[0].get();  // idle but not eligible
  auto eligible = [&](const Endpoint& e) { return &e != skipped; };
  CHECK(policy.pick(endpoints, eligible) == 1);
  CHECK(policy.pick(endpoints, [](const Endpoint&) { return false; }) == Policy::kNone);
  CHECK(policy.pick({}, test::any_endpoint) == Policy::kNone);
}

TEST_CASE("make_policy: least-connections") {
  auto policy = make_policy(conf::LoadBalancing::LeastConnections);
  CHECK(dynamic_cast<LeastConnections*>(policy.get()) != nullptr);
}

}  // namespace
}  // namespace svcproxy::lb

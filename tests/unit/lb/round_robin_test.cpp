#include "lb/round_robin.hpp"

#include <doctest/doctest.h>

#include <array>
#include <atomic>
#include <thread>

#include "tests/unit/lb/test_endpoints.hpp"

namespace svcproxy::lb {
namespace {

TEST_CASE("round-robin: 300 picks over 3 endpoints give exactly 100 each") {
  RoundRobin policy;
  const auto endpoints = test::make_endpoints(3);
  std::array<int, 3> counts{};
  for (int i = 0; i < 300; ++i)
    ++counts.at(policy.pick(endpoints, test::any_endpoint));
  CHECK(counts == std::array<int, 3>{100, 100, 100});
}

TEST_CASE("round-robin: fair across two threads sharing the policy") {
  RoundRobin policy;
  const auto endpoints = test::make_endpoints(3);
  std::array<std::atomic<int>, 3> counts{};
  auto worker = [&] {
    for (int i = 0; i < 150; ++i)
      counts.at(policy.pick(endpoints, test::any_endpoint))++;
  };
  std::thread first(worker), second(worker);
  first.join();
  second.join();
  for (const auto& count : counts)
    CHECK(count.load() == 100);
}

TEST_CASE("round-robin: an ineligible endpoint passes its turn on") {
  RoundRobin policy;
  const auto endpoints = test::make_endpoints(3);
  const Endpoint* skipped = endpoints[1].get();
  auto eligible = [&](const Endpoint& e) { return &e != skipped; };
  std::array<int, 3> counts{};
  for (int i = 0; i < 300; ++i)
    ++counts.at(policy.pick(endpoints, eligible));
  CHECK(counts[1] == 0);
  // Not 200/100: the endpoint after the skipped one must not take its turns as well.
  CHECK(counts[0] == 150);
  CHECK(counts[2] == 150);
}

TEST_CASE("round-robin: equal shares whichever endpoints are ineligible") {
  RoundRobin policy;
  const auto endpoints = test::make_endpoints(5);
  auto eligible = [&](const Endpoint& e) {
    return &e != endpoints[0].get() && &e != endpoints[1].get() && &e != endpoints[3].get();
  };
  std::array<int, 5> counts{};
  for (int i = 0; i < 300; ++i)
    ++counts.at(policy.pick(endpoints, eligible));
  CHECK(counts == std::array<int, 5>{0, 0, 150, 0, 150});
}

TEST_CASE("round-robin: none eligible or no endpoints gives kNone") {
  RoundRobin policy;
  const auto endpoints = test::make_endpoints(3);
  CHECK(policy.pick(endpoints, [](const Endpoint&) { return false; }) == Policy::kNone);
  CHECK(policy.pick({}, test::any_endpoint) == Policy::kNone);
}

}  // namespace
}  // namespace svcproxy::lb

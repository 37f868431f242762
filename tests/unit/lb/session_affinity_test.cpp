#include "lb/session_affinity.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <vector>

#include "lb/backend.hpp"
#include "tests/unit/lb/test_endpoints.hpp"

namespace svcproxy::lb {
namespace {

using std::chrono::seconds;

// "s0", "s1", ...: appended, not `"s" + std::to_string(i)`, on which GCC 12 at -O3 warns
// (-Wstringop-overflow, a false positive in libstdc++'s operator+).
std::string numbered(std::string prefix, int i) {
  prefix += std::to_string(i);
  return prefix;
}

const Clock::time_point t0 = Clock::time_point(seconds(1000));

BackendSettings affinity_settings(std::shared_ptr<AffinityTable> table) {
  BackendSettings settings;
  settings.name = "default/web:http";
  settings.session_affinity = conf::SessionAffinity::ClientIP;
  settings.affinity = std::move(table);
  return settings;
}

EndpointPtr pick(const Backend& backend, std::string_view client, Clock::time_point now) {
  return backend.pick(PickRequest{client, now, {}});
}

TEST_CASE("affinity: a client sticks to one pod while others rotate") {
  auto table = std::make_shared<AffinityTable>(seconds(10));
  Backend backend(affinity_settings(table), test::make_endpoints(3));
  const EndpointPtr first = pick(backend, "10.0.0.1", t0);
  REQUIRE(first);
  for (int i = 0; i < 50; ++i)
    CHECK(pick(backend, "10.0.0.1", t0 + seconds(i % 5)) == first);
  // Other clients are still balanced: three new clients reach three pods.
  std::vector<const Endpoint*> seen;
  for (const char* client : {"10.0.0.2", "10.0.0.3", "10.0.0.4"})
    seen.push_back(pick(backend, client, t0).get());
  std::sort(seen.begin(), seen.end());
  CHECK(std::unique(seen.begin(), seen.end()) == seen.end());
  CHECK(table->size() == 4);
}

TEST_CASE("affinity: an entry idle for the timeout is rebalanced; use refreshes it") {
  auto table = std::make_shared<AffinityTable>(seconds(2));
  Backend backend(affinity_settings(table), test::make_endpoints(3));
  const EndpointPtr first = pick(backend, "10.0.0.1", t0);
  CHECK(pick(backend, "10.0.0.1", t0 + seconds(1)) == first);            // refreshed at t0+1
  CHECK(pick(backend, "10.0.0.1", t0 + seconds(2)) == first);            // idle 1s only
  const EndpointPtr moved = pick(backend, "10.0.0.1", t0 + seconds(5));  // idle 3s
  CHECK(moved != first);  // round-robin moved on since, so a new pick lands elsewhere
}

TEST_CASE("affinity: a pod that stops being ready loses its clients at once") {
  auto table = std::make_shared<AffinityTable>(seconds(100));
  Backend backend(affinity_settings(table), test::make_endpoints(3));
  const EndpointPtr first = pick(backend, "10.0.0.1", t0);
  first->set_ready(false);
  const EndpointPtr moved = pick(backend, "10.0.0.1", t0);
  REQUIRE(moved);
  CHECK(moved != first);
  first->set_ready(true);  // the client stays on its new pod
  for (int i = 0; i < 5; ++i)
    CHECK(pick(backend, "10.0.0.1", t0) == moved);
}

TEST_CASE("affinity: ejected or terminating pods lose their clients too") {
  auto table = std::make_shared<AffinityTable>(seconds(100));
  Backend backend(affinity_settings(table), test::make_endpoints(3));
  const EndpointPtr first = pick(backend, "10.0.0.1", t0);
  first->eject_until(t0 + seconds(30));
  const EndpointPtr second = pick(backend, "10.0.0.1", t0);
  CHECK(second != first);
  second->set_terminating();
  const EndpointPtr third = pick(backend, "10.0.0.1", t0);
  CHECK(third != second);
  CHECK(third != first);
}

TEST_CASE("affinity: one table is shared by the ports of a service, by pod") {
  auto table = std::make_shared<AffinityTable>(seconds(100));
  Backend http(affinity_settings(table), test::make_endpoints(3, 8080));
  Backend metrics(affinity_settings(table), test::make_endpoints(3, 9090));
  for (const char* client : {"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"}) {
    const EndpointPtr on_http = pick(http, client, t0);
    const EndpointPtr on_metrics = pick(metrics, client, t0);
    CHECK(on_metrics->address().pod_key() == on_http->address().pod_key());
    CHECK(on_metrics->address().port == 9090);
  }
}

TEST_CASE("affinity: exclusion on retry moves the client") {
  auto table = std::make_shared<AffinityTable>(seconds(100));
  Backend backend(affinity_settings(table), test::make_endpoints(3));
  const EndpointPtr first = pick(backend, "10.0.0.1", t0);
  const Endpoint* tried[] = {first.get()};
  const EndpointPtr retry = backend.pick(PickRequest{"10.0.0.1", t0, tried});
  CHECK(retry != first);
  CHECK(pick(backend, "10.0.0.1", t0) == retry);
}

TEST_CASE("affinity: nothing eligible gives nullptr and remembers nothing") {
  auto table = std::make_shared<AffinityTable>(seconds(100));
  auto endpoints = test::make_endpoints(2);
  for (auto& e : endpoints)
    e->set_ready(false);
  Backend backend(affinity_settings(table), endpoints);
  CHECK(pick(backend, "10.0.0.1", t0) == nullptr);
  CHECK(table->size() == 0);
}

TEST_CASE("affinity: ClientIP without a shared table still sticks") {
  BackendSettings settings = affinity_settings(nullptr);
  Backend backend(settings, test::make_endpoints(3));
  const EndpointPtr first = pick(backend, "10.0.0.1", t0);
  for (int i = 0; i < 10; ++i)
    CHECK(pick(backend, "10.0.0.1", t0) == first);
}

TEST_CASE("affinity table: expired entries are swept and the size is bounded") {
  AffinityTable table(seconds(10), /*max_clients=*/2000);
  const EndpointPtr pod = test::make_endpoint(0);
  auto none = [](std::string_view) -> EndpointPtr { return nullptr; };
  auto always_pod = [&] { return pod; };
  for (int i = 0; i < 1500; ++i)
    table.route(numbered("c", i), t0, none, always_pod);
  CHECK(table.size() == 1500);
  // Later clients trigger a sweep of the 1500 that have expired by then.
  for (int i = 0; i < 600; ++i)
    table.route(numbered("d", i), t0 + seconds(60), none, always_pod);
  CHECK(table.size() < 1500);
  // Full of live clients: new ones are served but not remembered.
  for (int i = 0; i < 3000; ++i)
    table.route(numbered("e", i), t0 + seconds(61), none, always_pod);
  CHECK(table.size() == 2000);
  CHECK(table.route("f", t0 + seconds(61), none, always_pod) == pod);
}

}  // namespace
}  // namespace svcproxy::lb

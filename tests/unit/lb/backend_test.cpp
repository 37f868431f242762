#include "lb/backend.hpp"

#include <doctest/doctest.h>

#include <map>
#include <set>

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

// trafficDistribution PreferClose: pods web-0 and web-1 in zone-a (this node's), web-2 and
// web-3 in zone-b. The rules are kube-proxy's topologyModeFromHints and availableForTopology
// (pkg/proxy/topology.go), over the hints the EndpointSlice controller writes for
// PreferClose (trafficdist.go, preferCloseHeuristic: each ready endpoint for its own zone).
namespace zones {

std::vector<EndpointPtr> two_zones() {
  std::vector<EndpointPtr> endpoints;
  for (int i = 0; i < 4; ++i) {
    EndpointAddress address = test::make_endpoint(i)->address();
    address.zone = i < 2 ? "zone-a" : "zone-b";
    endpoints.push_back(std::make_shared<Endpoint>(std::move(address)));
  }
  return endpoints;
}

BackendSettings in_zone(std::string zone) {
  BackendSettings settings;
  settings.topology_zone = std::move(zone);
  return settings;
}

std::set<const Endpoint*> picked(const Backend& backend, int picks = 40) {
  std::set<const Endpoint*> seen;
  for (const auto& [endpoint, count] : count_picks(backend, picks))
    seen.insert(endpoint);
  return seen;
}

std::set<const Endpoint*> of(const std::vector<EndpointPtr>& endpoints,
                             std::initializer_list<int> indexes) {
  std::set<const Endpoint*> out;
  for (int i : indexes)
    out.insert(endpoints[i].get());
  return out;
}

}  // namespace zones

TEST_CASE("topology: traffic stays in this node's zone while a pod of it is ready") {
  // topologyModeFromHints: every ready endpoint has a zone hint and one is for our zone.
  const auto endpoints = zones::two_zones();
  Backend backend(zones::in_zone("zone-a"), endpoints);
  CHECK(zones::picked(backend) == zones::of(endpoints, {0, 1}));
  endpoints[0]->set_ready(false);
  CHECK(zones::picked(backend) == zones::of(endpoints, {1}));
}

TEST_CASE("topology: no ready pod in the zone sends traffic to every zone, and back") {
  // topologyModeFromHints: no endpoint hinted for this zone -> "" (every ready endpoint).
  const auto endpoints = zones::two_zones();
  Backend backend(zones::in_zone("zone-a"), endpoints);
  endpoints[0]->set_ready(false);
  endpoints[1]->set_ready(false);
  CHECK(zones::picked(backend) == zones::of(endpoints, {2, 3}));
  endpoints[1]->set_ready(true);  // the probe passes again: the zone again
  CHECK(zones::picked(backend) == zones::of(endpoints, {1}));
}

TEST_CASE("topology: a ready pod without a zone turns the preference off") {
  // topologyModeFromHints: allEndpointsHaveZoneHints is false -> "".
  auto endpoints = zones::two_zones();
  endpoints.push_back(test::make_endpoint(4));  // on a node whose zone nobody knows
  Backend backend(zones::in_zone("zone-a"), endpoints);
  CHECK(zones::picked(backend) == zones::of(endpoints, {0, 1, 2, 3, 4}));
  endpoints[4]->set_ready(false);  // only ready endpoints count
  CHECK(zones::picked(backend) == zones::of(endpoints, {0, 1}));
}

TEST_CASE("topology: a node without a zone, or no PreferClose, uses every zone") {
  // CategorizeEndpoints reads the node's topology.kubernetes.io/zone label; none: no hint
  // matches. Without PreferClose the controller writes no hints at all.
  const auto endpoints = zones::two_zones();
  CHECK(zones::picked(Backend(BackendSettings{}, endpoints)) == zones::of(endpoints, {0, 1, 2, 3}));
  CHECK(zones::picked(Backend(zones::in_zone("zone-c"), endpoints)) ==
        zones::of(endpoints, {0, 1, 2, 3}));
}

TEST_CASE("topology: ejected, terminating or already tried pods of the zone give way") {
  const auto endpoints = zones::two_zones();
  Backend backend(zones::in_zone("zone-a"), endpoints);
  endpoints[0]->eject_until(t0 + seconds(30));
  endpoints[1]->set_terminating(t0);
  CHECK(zones::picked(backend) == zones::of(endpoints, {2, 3}));
  endpoints[0]->clear_ejection();
  CHECK(zones::picked(backend) == zones::of(endpoints, {0}));
  const Endpoint* tried[] = {endpoints[0].get()};  // a retry leaves the zone
  const EndpointPtr retry = backend.pick(PickRequest{"", t0, tried});
  CHECK((retry == endpoints[2] || retry == endpoints[3]));
}

TEST_CASE("topology: ClientIP affinity to another zone's pod ends when the zone is back") {
  const auto endpoints = zones::two_zones();
  BackendSettings settings = zones::in_zone("zone-a");
  settings.session_affinity = conf::SessionAffinity::ClientIP;
  Backend backend(settings, endpoints);
  endpoints[0]->set_ready(false);
  endpoints[1]->set_ready(false);
  const EndpointPtr away = pick(backend);
  CHECK(zones::of(endpoints, {2, 3}).contains(away.get()));
  CHECK(pick(backend) == away);  // remembered
  endpoints[0]->set_ready(true);
  CHECK(pick(backend) == endpoints[0]);
  CHECK(pick(backend) == endpoints[0]);
}

}  // namespace
}  // namespace svcproxy::lb

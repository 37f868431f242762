#include "discovery/backends.hpp"

#include <doctest/doctest.h>

#include "backend_test_support.hpp"

using namespace svcproxy;
using namespace svcproxy::discovery;

using testing::find;
using testing::pod;
using testing::web_snapshot;

TEST_CASE("build_backends keeps the Endpoint objects of pods that stay") {
  const auto snapshot = web_snapshot();
  const auto first = build_backends(snapshot, {pod("a", "127.0.1.1"), pod("b", "127.0.1.2")}, {});
  const auto second = build_backends(
      snapshot, {pod("a", "127.0.1.1"), pod("b", "127.0.1.2"), pod("c", "127.0.1.3")}, first);
  CHECK(find(second, "a") == find(first, "a"));
  CHECK(find(second, "b") == find(first, "b"));
  CHECK_FALSE(find(second, "a")->terminating());
  CHECK(second.at("default/web:80")->endpoints().size() == 3);
}

TEST_CASE("a removed pod stays in its set, terminating, until timeouts.drain has passed") {
  const auto snapshot = web_snapshot();
  const auto start = lb::Clock::now();
  const auto first =
      build_backends(snapshot, {pod("a", "127.0.1.1"), pod("b", "127.0.1.2")}, {}, start);
  const auto removed = find(first, "b");
  const auto second = build_backends(snapshot, {pod("a", "127.0.1.1")}, first, start);
  CHECK(removed->terminating());
  CHECK_FALSE(find(second, "a")->terminating());
  CHECK(second.at("default/web:80")->endpoints().size() == 2);
  CHECK(second.at("default/web:80")->pick({}).get() == find(second, "a").get());
  const auto grace = snapshot.proxy.timeouts.drain;
  CHECK(next_termination_end(second, grace) == start + grace);
  const auto third = build_backends(snapshot, {pod("a", "127.0.1.1")}, second, start + grace);
  CHECK(third.at("default/web:80")->endpoints().size() == 1);
  CHECK_FALSE(next_termination_end(third, grace));
}

TEST_CASE("when every pod of a port was removed, the terminating ones still serve") {
  const auto snapshot = web_snapshot();
  const auto first = build_backends(snapshot, {pod("a", "127.0.1.1")}, {});
  const auto second = build_backends(snapshot, {}, first);
  const auto picked = second.at("default/web:80")->pick({});
  REQUIRE(picked);
  CHECK(picked->address().pod_name == "a");
  CHECK(picked->terminating());
}

TEST_CASE("a pod that moves to a new address: the old endpoint terminates") {
  const auto snapshot = web_snapshot();
  const auto first = build_backends(snapshot, {pod("a", "127.0.1.1")}, {});
  const auto old = find(first, "a");
  const auto second = build_backends(snapshot, {pod("a", "127.0.1.7")}, first);
  CHECK(old->terminating());
  CHECK(find(second, "a") != old);
  CHECK_FALSE(find(second, "a")->terminating());
}

TEST_CASE("every endpoint of a removed service port terminates") {
  const auto first = build_backends(web_snapshot(), {pod("a", "127.0.1.1")}, {});
  const auto old = find(first, "a");
  const auto second = build_backends(conf::Snapshot{}, {pod("a", "127.0.1.1")}, first);
  CHECK(second.empty());
  CHECK(old->terminating());
}

TEST_CASE("one backend per service port, with the selected pods at the target port") {
  const auto snapshot = web_snapshot();
  const auto backends = discovery::build_backends(
      snapshot, {pod("web-2", "127.0.1.2"), pod("web-1", "127.0.1.1")}, {});
  REQUIRE(backends.size() == 1);
  const auto& endpoints = backends.at("default/web:80")->endpoints();
  REQUIRE(endpoints.size() == 2);
  CHECK(endpoints[0]->address().key() == "127.0.1.1:8080");
  CHECK(endpoints[1]->address().pod_name == "web-2");
}

TEST_CASE("a pod whose address changed gets a fresh Endpoint") {
  const auto snapshot = web_snapshot();
  const auto first = discovery::build_backends(snapshot, {pod("web-1", "127.0.1.1")}, {});
  const auto second = discovery::build_backends(snapshot, {pod("web-1", "127.0.1.9")}, first);
  CHECK(second.at("default/web:80")->endpoints()[0] != first.at("default/web:80")->endpoints()[0]);
}

TEST_CASE("a pod whose readinessProbe changed gets a fresh Endpoint, so the new probe runs") {
  const auto snapshot = web_snapshot();
  auto probed = pod("web-1", "127.0.1.1");
  conf::Container container;
  container.ports.push_back({"http", 8080});
  container.readiness_probe = conf::Probe{};
  container.readiness_probe->port.number = 8080;
  probed.containers.push_back(container);
  const auto first = discovery::build_backends(snapshot, {probed}, {});
  const auto same = discovery::build_backends(snapshot, {probed}, first);
  CHECK(same.at("default/web:80")->endpoints()[0] == first.at("default/web:80")->endpoints()[0]);
  probed.containers[0].readiness_probe->path = "/healthz";
  const auto changed = discovery::build_backends(snapshot, {probed}, same);
  CHECK(changed.at("default/web:80")->endpoints()[0] != same.at("default/web:80")->endpoints()[0]);
}

TEST_CASE("externalTrafficPolicy Local keeps a second backend with this node's pods only") {
  auto snapshot = web_snapshot();
  snapshot.services.mutate(0).type = conf::ServiceType::NodePort;
  snapshot.services.mutate(0).ports[0].node_port = 30080;
  snapshot.services.mutate(0).external_traffic_policy = conf::TrafficPolicy::Local;
  snapshot.proxy.node_name = "node-a";
  auto here = pod("web-1", "127.0.1.1");
  here.node_name = "node-a";
  auto there = pod("web-2", "127.0.1.2");
  there.node_name = "node-b";
  const auto backends = discovery::build_backends(snapshot, {here, there}, {});
  CHECK(backends.at("default/web:80")->endpoints().size() == 2);
  const auto& local = backends.at("default/web:80@local")->endpoints();
  REQUIRE(local.size() == 1);
  CHECK(local[0]->address().pod_name == "web-1");
}

TEST_CASE("an edge instance's LoadBalancer backend is the nodes at the nodePort") {
  auto snapshot = web_snapshot();
  snapshot.services.mutate(0).type = conf::ServiceType::LoadBalancer;
  snapshot.services.mutate(0).ports[0].node_port = 30080;
  snapshot.proxy.nodes = {{"node-a", "127.0.7.1"}, {"node-b", "127.0.7.2"}};
  const auto backends = discovery::build_backends(snapshot, {pod("web-1", "127.0.1.1")}, {});
  const auto& nodes = backends.at("default/web:80@nodes")->endpoints();
  REQUIRE(nodes.size() == 2);
  CHECK(nodes[0]->address().key() == "127.0.7.1:30080");
  CHECK(nodes[1]->address().pod_key() == "node-b");
  CHECK(backends.at("default/web:80@nodes")->name() == "default/web:80@nodes");
}

TEST_CASE("an edge forwards to the nodes[] entries with an address, not to zone-only ones") {
  auto snapshot = web_snapshot();
  snapshot.services.mutate(0).type = conf::ServiceType::LoadBalancer;
  snapshot.services.mutate(0).ports[0].node_port = 30080;
  snapshot.proxy.nodes = {{"node-a", "127.0.7.1", "zone-a"}, {"node-b", "", "zone-b"}};
  const auto backends = discovery::build_backends(snapshot, {pod("web-1", "127.0.1.1")}, {});
  const auto& nodes = backends.at("default/web:80@nodes")->endpoints();
  REQUIRE(nodes.size() == 1);
  CHECK(nodes[0]->address().pod_key() == "node-a");
  snapshot.proxy.nodes = {{"node-b", "", "zone-b"}};  // zones only: no edge at all
  CHECK_FALSE(discovery::build_backends(snapshot, {pod("web-1", "127.0.1.1")}, {})
                  .contains("default/web:80@nodes"));
}

// Pods' zones are their nodes' (as the EndpointSlice controller fills endpoints[].zone from
// the Node's topology.kubernetes.io/zone label); kube-proxy's CategorizeEndpoints applies
// topology to the Cluster endpoints only, never to the Local ones.
TEST_CASE("PreferClose: endpoints carry their node's zone, and the Cluster route the node's") {
  auto snapshot = web_snapshot();
  snapshot.services.mutate(0).prefer_close = true;
  snapshot.services.mutate(0).internal_traffic_policy = conf::TrafficPolicy::Local;
  snapshot.proxy.node_name = "node-a";
  snapshot.proxy.zone = "zone-a";
  snapshot.proxy.nodes = {{"node-b", "", "zone-b"}};
  auto here = pod("web-1", "127.0.1.1");
  here.node_name = "node-a";
  auto there = pod("web-2", "127.0.1.2");
  there.node_name = "node-b";
  auto unknown = pod("web-3", "127.0.1.3");
  unknown.node_name = "node-c";
  const auto backends = discovery::build_backends(snapshot, {here, there, unknown}, {});
  const auto& cluster = *backends.at("default/web:80");
  CHECK(cluster.settings().topology_zone == "zone-a");
  REQUIRE(cluster.endpoints().size() == 3);
  CHECK(cluster.endpoints()[0]->address().zone == "zone-a");
  CHECK(cluster.endpoints()[1]->address().zone == "zone-b");
  CHECK(cluster.endpoints()[2]->address().zone.empty());
  CHECK(backends.at("default/web:80@local")->settings().topology_zone.empty());
  snapshot.services.mutate(0).prefer_close = false;
  CHECK(discovery::build_backends(snapshot, {here}, {})
            .at("default/web:80")
            ->settings()
            .topology_zone.empty());
}

TEST_CASE("a pod whose node moved to another zone gets a fresh Endpoint") {
  auto snapshot = web_snapshot();
  snapshot.proxy.nodes = {{"node-b", "", "zone-b"}};
  auto there = pod("web-2", "127.0.1.2");
  there.node_name = "node-b";
  const auto first = discovery::build_backends(snapshot, {there}, {});
  snapshot.proxy.nodes[0].zone = "zone-c";
  const auto second = discovery::build_backends(snapshot, {there}, first);
  CHECK(find(second, "web-2") != find(first, "web-2"));
  CHECK(find(second, "web-2")->address().zone == "zone-c");
}

TEST_CASE("kept Backends are taken as they are, and their endpoints do not terminate") {
  auto snapshot = web_snapshot();
  conf::Service api = snapshot.services[0];
  api.name = "api";
  snapshot.services.push_back(api);
  const conf::PodList pods = {pod("a", "127.0.1.1")};
  const auto first = build_backends(snapshot, pods, {});
  const PodIndex index(pods);
  KeptBackends kept(2);
  kept[1] = {first.at("default/api:80")};
  const auto second = build_backends(snapshot, index, first, lb::Clock::now(), kept);
  CHECK(second.at("default/api:80") == first.at("default/api:80"));
  CHECK(second.at("default/web:80") != first.at("default/web:80"));
  CHECK(find(second, "a") == find(first, "a"));  // rebuilt, over the same Endpoint
  CHECK_FALSE(second.at("default/api:80")->endpoints()[0]->terminating());
}

// The edge checks each node's healthCheckNodePort, as a cloud load balancer does for
// externalTrafficPolicy Local: a node without a ready pod of the Service takes none of it.
TEST_CASE("an edge probes each node's healthCheckNodePort for externalTrafficPolicy Local") {
  auto snapshot = web_snapshot();
  snapshot.services.mutate(0).type = conf::ServiceType::LoadBalancer;
  snapshot.services.mutate(0).ports[0].node_port = 30080;
  snapshot.services.mutate(0).external_traffic_policy = conf::TrafficPolicy::Local;
  snapshot.services.mutate(0).health_check_node_port = 30555;
  snapshot.proxy.nodes = {{"node-a", "127.0.7.1"}, {"node-b", "127.0.7.2"}};
  snapshot.proxy.node_health_check.period = std::chrono::seconds(3);
  const auto backends = discovery::build_backends(snapshot, {pod("web-1", "127.0.1.1")}, {});
  const auto& nodes = backends.at("default/web:80@nodes")->endpoints();
  REQUIRE(nodes.size() == 2);
  const auto& probe = nodes[0]->address().readiness_probe;
  REQUIRE(probe);
  CHECK(probe->kind == conf::Probe::Kind::HttpGet);
  CHECK(probe->port.number == 30555);
  CHECK(probe->period == std::chrono::seconds(3));
  CHECK(nodes[0]->address().key() == "127.0.7.1:30080");  // traffic still goes to the nodePort
  snapshot.services.mutate(0).external_traffic_policy = conf::TrafficPolicy::Cluster;
  snapshot.services.mutate(0).health_check_node_port = 0;
  const auto cluster = discovery::build_backends(snapshot, {pod("web-1", "127.0.1.1")}, {});
  CHECK_FALSE(cluster.at("default/web:80@nodes")->endpoints()[0]->address().readiness_probe);
}

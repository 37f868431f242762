#include "discovery/backends.hpp"

#include <doctest/doctest.h>

using namespace svcproxy;
using namespace svcproxy::discovery;

namespace {

conf::Snapshot web_snapshot() {
  conf::Snapshot snapshot;
  conf::Service web;
  web.name = "web";
  web.selector = {{"app", "web"}};
  conf::ServicePort http;
  http.name = "http";
  http.port = 80;
  http.target_port.number = 8080;
  web.ports.push_back(http);
  snapshot.services.push_back(web);
  return snapshot;
}

conf::Pod pod(std::string name, std::string ip) {
  conf::Pod p;
  p.name = std::move(name);
  p.pod_ip = std::move(ip);
  p.labels = {{"app", "web"}};
  return p;
}

lb::EndpointPtr find(const BackendMap& backends, const std::string& pod_name) {
  for (const auto& endpoint : backends.at("default/web:80")->endpoints())
    if (endpoint->address().pod_name == pod_name) return endpoint;
  return nullptr;
}

}  // namespace

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

namespace {

conf::Snapshot two_services(int api_port) {
  conf::Snapshot snapshot = web_snapshot();
  conf::Service api = snapshot.services[0];
  api.name = "api";
  api.selector = {{"app", "api"}};
  api.ports[0].port = api_port;
  snapshot.services.push_back(api);
  conf::Pod api_pod = pod("api-1", "127.0.1.9");
  api_pod.labels = {{"app", "api"}};
  snapshot.pods = {pod("a", "127.0.1.1"), pod("b", "127.0.1.2"), api_pod};
  return snapshot;
}

}  // namespace

TEST_CASE("with the snapshot it was built from, an unchanged Service keeps its Backend") {
  const conf::Snapshot before = two_services(80);
  const auto first = build_backends(before, before.pods, {});
  const conf::Snapshot after = two_services(81);  // only api changed
  const auto second = build_backends(after, after.pods, first, lb::Clock::now(), &before);
  const auto fresh = build_backends(after, after.pods, {});
  CHECK(second.at("default/web:80") == first.at("default/web:80"));
  REQUIRE(second.contains("default/api:81"));
  CHECK_FALSE(second.contains("default/api:80"));
  CHECK(second.at("default/api:81")->endpoints().size() == 1);
  // api's port 80 is gone: its endpoint terminates, as without reuse.
  CHECK(first.at("default/api:80")->endpoints()[0]->terminating());
  CHECK(second.size() == fresh.size());
}

TEST_CASE("a changed pod rebuilds the Services that select it, before or after the change") {
  const conf::Snapshot before = two_services(80);
  const auto first = build_backends(before, before.pods, {});
  conf::Snapshot after = before;
  after.pods.mutate(1).labels = {{"app", "api"}};  // b moves from web to api
  const auto second = build_backends(after, after.pods, first, lb::Clock::now(), &before);
  CHECK(second.at("default/web:80") != first.at("default/web:80"));
  CHECK(second.at("default/api:80") != first.at("default/api:80"));
  CHECK(find(second, "a") == find(first, "a"));
  CHECK(find(first, "b")->terminating());  // left web's set, terminating as before
  bool b_in_api = false;
  for (const auto& endpoint : second.at("default/api:80")->endpoints())
    b_in_api = b_in_api || endpoint->address().pod_name == "b";
  CHECK(b_in_api);
}

TEST_CASE("a Service with a terminating endpoint is rebuilt, so its grace can end") {
  const conf::Snapshot before = two_services(80);
  const auto start = lb::Clock::now();
  const auto first = build_backends(before, before.pods, {}, start);
  conf::Snapshot after = before;
  after.pods.erase(after.pods.begin() + 1);  // b leaves
  const auto second = build_backends(after, after.pods, first, start, &before);
  CHECK(second.at("default/web:80")->endpoints().size() == 2);  // a, and b terminating
  const auto later = start + before.proxy.timeouts.drain + std::chrono::seconds(1);
  const auto third = build_backends(after, after.pods, second, later, &after);
  CHECK(third.at("default/web:80")->endpoints().size() == 1);
  CHECK(third.at("default/api:80") == second.at("default/api:80"));
}

namespace {

// web (pods a and b) and nine more Services without pods: more than a handful to build, so
// a first build indexes the pods rather than scanning them.
conf::Snapshot ten_services() {
  conf::Snapshot snapshot = web_snapshot();
  for (int i = 1; i < 10; ++i) {
    conf::Service other = snapshot.services[0];
    other.name = "other-" + std::to_string(i);
    other.selector = {{"app", other.name}};
    snapshot.services.push_back(other);
  }
  snapshot.pods = {pod("a", "127.0.1.1"), pod("b", "127.0.1.2")};
  return snapshot;
}

std::vector<std::string> addresses(const BackendMap& backends, const std::string& key) {
  std::vector<std::string> ips;
  for (const auto& endpoint : backends.at(key)->endpoints())
    if (!endpoint->terminating()) ips.push_back(endpoint->address().ip);
  return ips;
}

}  // namespace

TEST_CASE("the pod index of one build serves the next while the pods are the same objects") {
  const conf::Snapshot before = ten_services();
  std::shared_ptr<const PodIndex> index;
  const auto first = build_backends(before, before.pods, {}, lb::Clock::now(), nullptr, &index);
  REQUIRE(index);
  const PodIndex* first_index = index.get();

  conf::Snapshot after = before;  // shares every object
  after.services.mutate(0).ports[0].port = 81;
  const auto second = build_backends(after, after.pods, first, lb::Clock::now(), &before, &index);
  CHECK(index.get() == first_index);
  CHECK(addresses(second, "default/web:81") == std::vector<std::string>{"127.0.1.1", "127.0.1.2"});
  CHECK(second.at("default/other-1:80") == first.at("default/other-1:80"));

  // A changed pod: the index cannot serve (it points at the previous object); the change
  // is seen.
  conf::Snapshot moved = after;
  moved.pods.mutate(0).pod_ip = "127.0.1.5";
  const auto third = build_backends(moved, moved.pods, second, lb::Clock::now(), &after, &index);
  CHECK(index.get() != first_index);
  CHECK(addresses(third, "default/web:81") == std::vector<std::string>{"127.0.1.5", "127.0.1.2"});
}

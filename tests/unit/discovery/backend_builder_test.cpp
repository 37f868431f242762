#include "discovery/backend_builder.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "backend_test_support.hpp"

using namespace svcproxy;
using namespace svcproxy::discovery;

using testing::find;
using testing::pod;
using testing::web_snapshot;

namespace {

// web (pods a and b) and api (pod api-1) on port `api_port`.
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

// The addresses of the endpoints that are not terminating.
std::vector<std::string> addresses(const BackendMap& backends, const std::string& key) {
  std::vector<std::string> ips;
  for (const auto& endpoint : backends.at(key)->endpoints())
    if (!endpoint->terminating()) ips.push_back(endpoint->address().ip);
  return ips;
}

// Each key with its endpoints' addresses: what a build must agree on with a full one.
std::vector<std::string> described(const BackendMap& backends) {
  std::vector<std::string> lines;
  for (const auto& [key, backend] : backends) {
    std::string line = key + ":";
    for (const auto& endpoint : backend->endpoints())
      line += " " + endpoint->address().key() + (endpoint->terminating() ? "(terminating)" : "");
    lines.push_back(line);
  }
  return lines;
}

}  // namespace

TEST_CASE("current() is empty before the first build, and the same reference after each") {
  BackendBuilder builder;
  const BackendMapPtr& current = builder.current();
  REQUIRE(current);
  CHECK(current->empty());
  const BackendMapPtr& built = builder.build(web_snapshot());
  CHECK(&built == &current);
  CHECK(current->contains("default/web:80"));
}

TEST_CASE("a reload that changes one Service keeps the other Services' Backend objects") {
  BackendBuilder builder;
  const BackendMap first = *builder.build(two_services(80));
  const conf::Snapshot after = two_services(81);  // only api changed
  const BackendMap second = *builder.build(after);
  CHECK(second.at("default/web:80") == first.at("default/web:80"));
  REQUIRE(second.contains("default/api:81"));
  CHECK_FALSE(second.contains("default/api:80"));
  CHECK(second.at("default/api:81")->endpoints().size() == 1);
  // api's port 80 is gone: its endpoint terminates, as in a full build.
  CHECK(first.at("default/api:80")->endpoints()[0]->terminating());
  CHECK(described(second) == described(build_backends(after, after.pods, first)));
}

TEST_CASE("the builder keeps what it needs: the snapshot built from may be gone") {
  BackendBuilder builder;
  BackendMap first;
  conf::Snapshot after;
  {
    const conf::Snapshot before = ten_services();
    first = *builder.build(before);
    after = before;  // shares every object
  }
  after.services.mutate(0).ports[0].port = 81;
  const BackendMap second = *builder.build(after);
  CHECK(second.at("default/other-1:80") == first.at("default/other-1:80"));
  CHECK(addresses(second, "default/web:81") == std::vector<std::string>{"127.0.1.1", "127.0.1.2"});
}

TEST_CASE("a reload that changes nothing keeps every Backend") {
  BackendBuilder builder;
  const conf::Snapshot snapshot = two_services(80);
  const BackendMap first = *builder.build(snapshot);
  const BackendMap second = *builder.build(snapshot);
  REQUIRE(second.size() == first.size());
  for (const auto& [key, backend] : first)
    CHECK(second.at(key) == backend);
}

TEST_CASE("a changed pod rebuilds the Services that select it, before or after the change") {
  BackendBuilder builder;
  const conf::Snapshot before = two_services(80);
  const BackendMap first = *builder.build(before);
  conf::Snapshot after = before;
  after.pods.mutate(1).labels = {{"app", "api"}};  // b moves from web to api
  const BackendMap second = *builder.build(after);
  CHECK(second.at("default/web:80") != first.at("default/web:80"));
  CHECK(second.at("default/api:80") != first.at("default/api:80"));
  CHECK(find(second, "a") == find(first, "a"));
  CHECK(find(first, "b")->terminating());  // left web's set, terminating
  auto api = addresses(second, "default/api:80");
  std::sort(api.begin(), api.end());
  CHECK(api == std::vector<std::string>{"127.0.1.2", "127.0.1.9"});
}

TEST_CASE("changed proxy settings rebuild every Service") {
  BackendBuilder builder;
  conf::Snapshot snapshot = two_services(80);
  const BackendMap first = *builder.build(snapshot);
  snapshot.proxy.load_balancing = conf::LoadBalancing::LeastConnections;
  const BackendMap second = *builder.build(snapshot);
  CHECK(second.at("default/web:80") != first.at("default/web:80"));
  CHECK(second.at("default/api:80") != first.at("default/api:80"));
  CHECK(find(second, "a") == find(first, "a"));  // new Backends, the same Endpoints
}

TEST_CASE("a new zone for this node rebuilds every Service, so PreferClose follows it") {
  BackendBuilder builder;
  conf::Snapshot snapshot = two_services(80);
  snapshot.services.mutate(0).prefer_close = true;
  const BackendMap first = *builder.build(snapshot);
  snapshot.proxy.zone = "zone-a";
  const BackendMap second = *builder.build(snapshot);
  CHECK(second.at("default/web:80") != first.at("default/web:80"));
  CHECK(second.at("default/web:80")->settings().topology_zone == "zone-a");
}

TEST_CASE("a Service with a terminating endpoint is rebuilt, so its grace can end") {
  BackendBuilder builder;
  const conf::Snapshot before = two_services(80);
  const auto start = lb::Clock::now();
  const BackendMap first = *builder.build(before, {}, start);
  conf::Snapshot after = before;
  after.pods.erase(after.pods.begin() + 1);  // b leaves
  const BackendMap second = *builder.build(after, {}, start);
  CHECK(second.at("default/web:80")->endpoints().size() == 2);  // a, and b terminating
  const auto later = start + before.proxy.timeouts.drain + std::chrono::seconds(1);
  const BackendMap third = *builder.build(after, {}, later);
  CHECK(third.at("default/web:80")->endpoints().size() == 1);
  CHECK(third.at("default/api:80") == second.at("default/api:80"));
}

TEST_CASE("while the pods stay the same objects, a changed Service still selects the right ones") {
  BackendBuilder builder;
  const conf::Snapshot before = ten_services();
  const BackendMap first = *builder.build(before);
  conf::Snapshot after = before;  // shares every object
  after.services.mutate(0).ports[0].port = 81;
  const BackendMap second = *builder.build(after);
  CHECK(addresses(second, "default/web:81") == std::vector<std::string>{"127.0.1.1", "127.0.1.2"});
  CHECK(second.at("default/other-1:80") == first.at("default/other-1:80"));

  // A changed pod: what was indexed before cannot serve (it points at the previous
  // object); the change is seen.
  conf::Snapshot moved = after;
  moved.pods.mutate(0).pod_ip = "127.0.1.5";
  const BackendMap third = *builder.build(moved);
  CHECK(addresses(third, "default/web:81") == std::vector<std::string>{"127.0.1.5", "127.0.1.2"});
}

TEST_CASE("pods from DNS join the snapshot's, and every Service is built with them") {
  BackendBuilder builder;
  const conf::Snapshot snapshot = two_services(80);
  const BackendMap first = *builder.build(snapshot);
  const BackendMap with_dns = *builder.build(snapshot, {pod("dns-1", "127.0.1.7")});
  CHECK(addresses(with_dns, "default/web:80") ==
        std::vector<std::string>{"127.0.1.1", "127.0.1.2", "127.0.1.7"});
  CHECK(with_dns.at("default/api:80") != first.at("default/api:80"));
  CHECK(find(with_dns, "a") == find(first, "a"));

  // DNS pods are new objects each time: the build after them builds every Service again.
  const BackendMap without = *builder.build(snapshot);
  CHECK(without.at("default/api:80") != with_dns.at("default/api:80"));
  CHECK(find(without, "dns-1")->terminating());
  CHECK(addresses(without, "default/web:80") == std::vector<std::string>{"127.0.1.1", "127.0.1.2"});
  // Back to the snapshot's pods alone: the next build keeps what did not change again.
  const BackendMap again = *builder.build(snapshot);
  CHECK(again.at("default/api:80") == without.at("default/api:80"));
}

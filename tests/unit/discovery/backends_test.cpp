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

TEST_CASE("a removed pod's endpoint is marked terminating and leaves the set") {
  const auto snapshot = web_snapshot();
  const auto first = build_backends(snapshot, {pod("a", "127.0.1.1"), pod("b", "127.0.1.2")}, {});
  const auto removed = find(first, "b");
  const auto second = build_backends(snapshot, {pod("a", "127.0.1.1")}, first);
  CHECK(removed->terminating());
  CHECK_FALSE(find(second, "a")->terminating());
  CHECK(second.at("default/web:80")->endpoints().size() == 1);
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

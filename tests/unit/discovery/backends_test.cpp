#include "discovery/backends.hpp"

#include <doctest/doctest.h>

using namespace svcproxy;

namespace {

conf::Pod make_pod(std::string name, std::string ip) {
  conf::Pod pod;
  pod.name = std::move(name);
  pod.pod_ip = std::move(ip);
  pod.labels = {{"app", "web"}};
  return pod;
}

conf::Snapshot web_snapshot() {
  conf::Snapshot snapshot;
  conf::Service service;
  service.name = "web";
  service.selector = {{"app", "web"}};
  conf::ServicePort port;
  port.port = 80;
  port.target_port.number = 8080;
  service.ports.push_back(port);
  snapshot.services.push_back(service);
  return snapshot;
}

}  // namespace

TEST_CASE("one backend per service port, with the selected pods at the target port") {
  const auto snapshot = web_snapshot();
  const auto backends = discovery::build_backends(
      snapshot, {make_pod("web-2", "127.0.1.2"), make_pod("web-1", "127.0.1.1")}, {});
  REQUIRE(backends.size() == 1);
  const auto& endpoints = backends.at("default/web:80")->endpoints();
  REQUIRE(endpoints.size() == 2);
  CHECK(endpoints[0]->address().key() == "127.0.1.1:8080");
  CHECK(endpoints[1]->address().pod_name == "web-2");
}

TEST_CASE("a rebuild keeps the Endpoint objects of unchanged pods, so live state carries over") {
  const auto snapshot = web_snapshot();
  const auto first = discovery::build_backends(snapshot, {make_pod("web-1", "127.0.1.1")}, {});
  first.at("default/web:80")->endpoints()[0]->add_active();
  const auto second = discovery::build_backends(
      snapshot, {make_pod("web-1", "127.0.1.1"), make_pod("web-2", "127.0.1.2")}, first);
  const auto& endpoints = second.at("default/web:80")->endpoints();
  REQUIRE(endpoints.size() == 2);
  CHECK(endpoints[0] == first.at("default/web:80")->endpoints()[0]);
  CHECK(endpoints[0]->active() == 1);
  CHECK(endpoints[1]->active() == 0);
}

TEST_CASE("a pod whose address changed gets a fresh Endpoint") {
  const auto snapshot = web_snapshot();
  const auto first = discovery::build_backends(snapshot, {make_pod("web-1", "127.0.1.1")}, {});
  const auto second = discovery::build_backends(snapshot, {make_pod("web-1", "127.0.1.9")}, first);
  CHECK(second.at("default/web:80")->endpoints()[0] != first.at("default/web:80")->endpoints()[0]);
}

#include "discovery/service_endpoints.hpp"

#include <doctest/doctest.h>

#include "conf/loader.hpp"

namespace svcproxy::discovery {
namespace {

conf::Pod make_pod(const std::string& name, const std::string& ip, conf::Labels labels,
                   const std::string& namespace_name = "default") {
  conf::Pod pod;
  pod.name = name;
  pod.pod_ip = ip;
  pod.labels = std::move(labels);
  pod.namespace_name = namespace_name;
  return pod;
}

conf::Container container_with_port(const std::string& name, int number) {
  conf::Container container;
  container.ports.push_back({name, number});
  return container;
}

conf::Service make_service(conf::Labels selector, const std::string& namespace_name = "default") {
  conf::Service service;
  service.name = "web";
  service.namespace_name = namespace_name;
  service.selector = std::move(selector);
  return service;
}

conf::ServicePort port_to(conf::PortRef target) {
  conf::ServicePort port;
  port.port = 80;
  port.target_port = std::move(target);
  return port;
}

TEST_CASE("pods are selected by every selector label, in pod-name order") {
  const std::vector<conf::Pod> pods = {
      make_pod("web-2", "127.0.1.2", {{"app", "web"}, {"tier", "a"}}),
      make_pod("web-1", "127.0.1.1", {{"app", "web"}}),
      make_pod("api-1", "127.0.1.9", {{"app", "api"}}),
  };
  const auto selected = select_endpoints(make_service({{"app", "web"}}), port_to({8080, ""}), pods);
  REQUIRE(selected.size() == 2);
  CHECK(selected[0].pod_name == "web-1");
  CHECK(selected[0].ip == "127.0.1.1");
  CHECK(selected[0].port == 8080);
  CHECK(selected[1].pod_name == "web-2");
  CHECK(select_endpoints(make_service({{"app", "web"}, {"tier", "a"}}), port_to({80, ""}), pods)
            .size() == 1);
}

TEST_CASE("an empty selector selects nothing") {
  const std::vector<conf::Pod> pods = {make_pod("web-1", "127.0.1.1", {{"app", "web"}})};
  CHECK(select_endpoints(make_service({}), port_to({80, ""}), pods).empty());
}

TEST_CASE("services select pods of their own namespace only") {
  const std::vector<conf::Pod> pods = {
      make_pod("web-1", "127.0.3.1", {{"app", "web"}}, "dev"),
      make_pod("web-1", "127.0.4.1", {{"app", "web"}}, "prod"),
  };
  const auto dev = select_endpoints(make_service({{"app", "web"}}, "dev"), port_to({80, ""}), pods);
  REQUIRE(dev.size() == 1);
  CHECK(dev[0].ip == "127.0.3.1");
  CHECK(dev[0].pod_key() == "dev/web-1");
  CHECK(select_endpoints(make_service({{"app", "web"}}), port_to({80, ""}), pods).empty());
}

TEST_CASE("pods without a podIP are skipped") {
  const std::vector<conf::Pod> pods = {make_pod("web-1", "", {{"app", "web"}})};
  CHECK(select_endpoints(make_service({{"app", "web"}}), port_to({80, ""}), pods).empty());
}

TEST_CASE("a named targetPort is resolved per pod; pods without that name are skipped") {
  std::vector<conf::Pod> pods = {
      make_pod("a", "127.0.1.1", {{"app", "web"}}),
      make_pod("b", "127.0.1.2", {{"app", "web"}}),
      make_pod("c", "127.0.1.3", {{"app", "web"}}),
  };
  pods[0].containers.push_back(container_with_port("http", 8080));
  pods[1].containers.push_back(container_with_port("other", 1));
  pods[1].containers.push_back(container_with_port("http", 9090));
  pods[2].containers.push_back(container_with_port("metrics", 9100));
  const auto selected =
      select_endpoints(make_service({{"app", "web"}}), port_to({0, "http"}), pods);
  REQUIRE(selected.size() == 2);
  CHECK(selected[0].key() == "127.0.1.1:8080");
  CHECK(selected[1].key() == "127.0.1.2:9090");
}

// Kubernetes' ShouldPodBeInEndpoints: terminated pods are never endpoints.
TEST_CASE("pods that Succeeded or Failed are skipped; Pending and Running ones are kept") {
  std::vector<conf::Pod> pods;
  for (const char* phase : {"Succeeded", "Failed", "Pending", "Running", ""}) {
    pods.push_back(make_pod(std::string("p-") + (*phase ? phase : "none"),
                            "127.0.1." + std::to_string(pods.size() + 1), {{"app", "web"}}));
    pods.back().phase = phase;
  }
  const auto selected = select_endpoints(make_service({{"app", "web"}}), port_to({80, ""}), pods);
  REQUIRE(selected.size() == 3);
  CHECK(selected[0].pod_name == "p-Pending");
  CHECK(selected[1].pod_name == "p-Running");
  CHECK(selected[2].pod_name == "p-none");
}

// Kubernetes' FindPort: a named targetPort matches a container port by name and protocol.
TEST_CASE("a named targetPort skips a UDP container port of that name") {
  conf::Pod pod = make_pod("a", "127.0.1.1", {{"app", "web"}});
  conf::Container container = container_with_port("dns", 5353);
  container.ports[0].protocol = "UDP";
  container.ports.push_back({"dns", 5354, "TCP"});
  pod.containers.push_back(container);
  const auto selected = select_endpoints(make_service({{"app", "web"}}), port_to({0, "dns"}),
                                         std::vector<conf::Pod>{pod});
  REQUIRE(selected.size() == 1);
  CHECK(selected[0].key() == "127.0.1.1:5354");
}

TEST_CASE("the readinessProbe comes along, with a named port resolved") {
  conf::Pod pod = make_pod("a", "127.0.1.1", {{"app", "web"}});
  conf::Container container = container_with_port("http", 8080);
  container.ports.push_back({"health", 8081});
  conf::Probe probe;
  probe.kind = conf::Probe::Kind::HttpGet;
  probe.port = {0, "health"};
  container.readiness_probe = probe;
  pod.containers.push_back(container);
  const auto selected = select_endpoints(make_service({{"app", "web"}}), port_to({0, "http"}),
                                         std::vector<conf::Pod>{pod});
  REQUIRE(selected.size() == 1);
  REQUIRE(selected[0].readiness_probe.has_value());
  CHECK(selected[0].readiness_probe->port.number == 8081);
}

TEST_CASE("pods inheriting a Deployment template resolve named ports from it") {
  const auto result = conf::load_text(R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: nginx, ports: [{name: http, containerPort: 8080}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web-1, labels: {app: web}}
status: {podIP: 127.0.1.1}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}, ports: [{port: 80, targetPort: http}]}
)");
  REQUIRE(result.ok());
  const auto& snapshot = *result.snapshot;
  const auto selected =
      select_endpoints(snapshot.services[0], snapshot.services[0].ports[0], snapshot.pods);
  REQUIRE(selected.size() == 1);
  CHECK(selected[0].key() == "127.0.1.1:8080");
}

}  // namespace
}  // namespace svcproxy::discovery

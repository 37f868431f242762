#include "server/admin/service_health.hpp"

#include <doctest/doctest.h>

#include "../../discovery/backend_test_support.hpp"
#include "server/admin/service_health_server.hpp"

using namespace svcproxy;
using namespace svcproxy::server;
namespace http = boost::beast::http;

namespace {

conf::Snapshot local_balancer() {
  auto snapshot = discovery::testing::web_snapshot();
  conf::Service& web = snapshot.services.mutate(0);
  web.type = conf::ServiceType::LoadBalancer;
  web.ports[0].node_port = 30080;
  web.external_traffic_policy = conf::TrafficPolicy::Local;
  web.health_check_node_port = 30555;
  snapshot.proxy.node_name = "node-a";
  snapshot.proxy.node_port_addresses = {"127.0.0.1", "::1"};
  return snapshot;
}

conf::Pod pod_on(std::string name, std::string ip, std::string node) {
  auto pod = discovery::testing::pod(std::move(name), std::move(ip));
  pod.node_name = std::move(node);
  return pod;
}

}  // namespace

// pkg/proxy/healthcheck/service_health.go, hcHandler.ServeHTTP: 200 iff the node has a
// local endpoint and the proxy is healthy; kube-proxy's tab-indented JSON; the count also in
// X-Load-Balancing-Endpoint-Weight.
TEST_CASE(
    "service health: kube-proxy's answer, 200 only with a local endpoint and a healthy proxy") {
  const ServiceHealthTarget target{"default", "web", {}};
  const AdminRequest request{http::verb::get, "/healthz", 11};
  const AdminResponse ok = service_health_response(request, target, 2, true);
  CHECK(ok.result() == http::status::ok);
  CHECK(ok[http::field::content_type] == "application/json");
  CHECK(ok["X-Content-Type-Options"] == "nosniff");
  CHECK(ok["X-Load-Balancing-Endpoint-Weight"] == "2");
  CHECK(ok.body() ==
        "{\n\t\"service\": {\n\t\t\"namespace\": \"default\",\n\t\t\"name\": \"web\"\n\t},\n"
        "\t\"localEndpoints\": 2,\n\t\"serviceProxyHealthy\": true\n}");
  const AdminResponse none = service_health_response(request, target, 0, true);
  CHECK(none.result() == http::status::service_unavailable);
  CHECK(none["X-Load-Balancing-Endpoint-Weight"] == "0");
  CHECK(service_health_response(request, target, 2, false).result() ==
        http::status::service_unavailable);
  const AdminResponse head =
      service_health_response(AdminRequest{http::verb::head, "/", 11}, target, 1, true);
  CHECK(head.body().empty());
  CHECK(head[http::field::content_length] == std::to_string(ok.body().size()));
}

TEST_CASE("service health counts this node's ready pods, each once") {
  auto snapshot = local_balancer();
  conf::ServicePort second = snapshot.services[0].ports[0];
  second.name = "metrics";
  second.port = 9100;
  second.node_port = 30091;
  snapshot.services.mutate(0).ports.push_back(second);
  const auto backends = discovery::build_backends(
      snapshot,
      {pod_on("web-1", "127.0.1.1", "node-a"), pod_on("web-2", "127.0.1.2", "node-a"),
       pod_on("web-3", "127.0.1.3", "node-b")},
      {});
  const auto plan = plan_service_health(snapshot);
  REQUIRE(plan.size() == 2);  // one per nodePortAddresses address
  const ServiceHealthTarget& target = plan.at(ListenAddress{"127.0.0.1", 30555});
  CHECK(plan.at(ListenAddress{"::1", 30555}) == target);
  CHECK(target.backend_keys ==
        std::vector<std::string>{"default/web:80@local", "default/web:9100@local"});
  const auto now = lb::Clock::now();
  CHECK(local_ready_endpoints(target, backends, now) == 2);  // two pods, two ports each
  for (const auto& endpoint : backends.at("default/web:80@local")->endpoints())
    if (endpoint->address().pod_name == "web-1") endpoint->set_ready(false);
  CHECK(local_ready_endpoints(target, backends, now) == 2);  // web-1 still ready on 9100
  for (const auto& key : target.backend_keys)
    for (const auto& endpoint : backends.at(key)->endpoints())
      endpoint->set_ready(false);
  CHECK(local_ready_endpoints(target, backends, now) == 0);
}

TEST_CASE("service health ports: none for Cluster policy, and none on an edge") {
  auto snapshot = local_balancer();
  CHECK(plan_service_health(snapshot).size() == 2);
  snapshot.proxy.nodes = {{"node-a", "127.0.7.1"}};  // an edge forwards to nodes instead
  CHECK(plan_service_health(snapshot).empty());
  snapshot = local_balancer();
  snapshot.services.mutate(0).external_traffic_policy = conf::TrafficPolicy::Cluster;
  CHECK(plan_service_health(snapshot).empty());
}

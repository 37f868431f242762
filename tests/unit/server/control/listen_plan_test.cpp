#include "server/control/listen_plan.hpp"

#include <doctest/doctest.h>

using namespace svcproxy;

namespace {

conf::Service make_service(std::string name, conf::ServiceType type, std::string cluster_ip) {
  conf::Service service;
  service.name = std::move(name);
  service.type = type;
  service.cluster_ip = std::move(cluster_ip);
  conf::ServicePort port;
  port.port = 80;
  port.target_port.number = 8080;
  port.node_port = type == conf::ServiceType::ClusterIP ? 0 : 30080;
  service.ports.push_back(port);
  return service;
}

}  // namespace

TEST_CASE("a ClusterIP service listens on its cluster IP only") {
  conf::Snapshot snapshot;
  snapshot.services.push_back(make_service("web", conf::ServiceType::ClusterIP, "127.96.0.10"));
  const auto plan = server::plan_listeners(snapshot);
  REQUIRE(plan.size() == 1);
  CHECK(plan[0].address.to_string() == "127.96.0.10:80");
  CHECK(plan[0].backend_key == "default/web:80");
  CHECK(plan[0].role == server::ListenerRole::ClusterIP);
}

TEST_CASE("a NodePort service adds every nodePortAddresses address at its nodePort") {
  conf::Snapshot snapshot;
  snapshot.proxy.node_port_addresses = {"127.0.0.1", "127.0.0.2"};
  snapshot.services.push_back(make_service("web", conf::ServiceType::NodePort, "127.96.0.10"));
  const auto plan = server::plan_listeners(snapshot);
  REQUIRE(plan.size() == 3);
  CHECK(plan[0].address.to_string() == "127.0.0.1:30080");
  CHECK(plan[1].address.to_string() == "127.0.0.2:30080");
  CHECK(plan[2].role == server::ListenerRole::ClusterIP);
}

TEST_CASE("a LoadBalancer listens on its ingress IPs at the service port") {
  conf::Snapshot snapshot;
  snapshot.proxy.node_port_addresses = {"127.0.0.1"};
  auto service = make_service("web", conf::ServiceType::LoadBalancer, "127.96.0.10");
  service.load_balancer_ips = {"127.0.2.1"};
  snapshot.services.push_back(service);
  const auto plan = server::plan_listeners(snapshot);
  REQUIRE(plan.size() == 3);
  CHECK(plan[0].address.to_string() == "127.0.0.1:30080");
  CHECK(plan[1].address.to_string() == "127.0.2.1:80");
  CHECK(plan[1].role == server::ListenerRole::LoadBalancer);
}

TEST_CASE("a LoadBalancer without ingress IPs listens on the node addresses") {
  conf::Snapshot snapshot;
  snapshot.proxy.node_port_addresses = {"127.0.0.1"};
  snapshot.services.push_back(make_service("web", conf::ServiceType::LoadBalancer, "127.96.0.10"));
  const auto plan = server::plan_listeners(snapshot);
  REQUIRE(plan.size() == 3);
  CHECK(plan[0].address.to_string() == "127.0.0.1:80");
}

TEST_CASE("a headless service has no listener") {
  conf::Snapshot snapshot;
  auto service = make_service("db", conf::ServiceType::ClusterIP, "");
  service.headless = true;
  snapshot.services.push_back(service);
  CHECK(server::plan_listeners(snapshot).empty());
}

TEST_CASE("two services on one address and port are a conflict naming both") {
  conf::Snapshot snapshot;
  snapshot.proxy.node_port_addresses = {"0.0.0.0"};
  snapshot.services.push_back(make_service("a", conf::ServiceType::LoadBalancer, "127.96.0.1"));
  snapshot.services.push_back(make_service("b", conf::ServiceType::LoadBalancer, "127.96.0.2"));
  snapshot.services.mutate(1).ports[0].node_port = 30081;
  const auto conflicts = server::find_listener_conflicts(server::plan_listeners(snapshot));
  REQUIRE(conflicts.size() == 1);
  CHECK(conflicts[0] ==
        "0.0.0.0:80 is claimed by both default/a:80 (LoadBalancer) and default/b:80 "
        "(LoadBalancer)");
}

TEST_CASE("IPv6 listen addresses are bracketed") {
  CHECK(server::ListenAddress{"::1", 8080}.to_string() == "[::1]:8080");
}

TEST_CASE("externalTrafficPolicy Local routes NodePort and LoadBalancer traffic to local pods") {
  conf::Snapshot snapshot;
  snapshot.proxy.node_port_addresses = {"127.0.0.1"};
  auto service = make_service("web", conf::ServiceType::LoadBalancer, "127.96.0.10");
  service.load_balancer_ips = {"127.0.2.1"};
  service.external_traffic_policy = conf::TrafficPolicy::Local;
  snapshot.services.push_back(service);
  const auto plan = server::plan_listeners(snapshot);
  REQUIRE(plan.size() == 3);
  CHECK(plan[0].backend_key == "default/web:80@local");  // NodePort
  CHECK(plan[1].backend_key == "default/web:80@local");  // LoadBalancer
  CHECK(plan[2].backend_key == "default/web:80");        // ClusterIP: always every pod
}

TEST_CASE("an edge instance sends LoadBalancer traffic to its nodes") {
  conf::Snapshot snapshot;
  snapshot.proxy.node_port_addresses = {"127.0.0.1"};
  snapshot.proxy.nodes = {{"node-a", "10.0.0.1"}};
  auto service = make_service("web", conf::ServiceType::LoadBalancer, "127.96.0.10");
  service.load_balancer_ips = {"127.0.2.1"};
  snapshot.services.push_back(service);
  const auto plan = server::plan_listeners(snapshot);
  REQUIRE(plan.size() == 3);
  CHECK(plan[0].backend_key == "default/web:80");
  CHECK(plan[1].backend_key == "default/web:80@nodes");
}

TEST_CASE("a ClusterIP listener with internalTrafficPolicy Local routes to this node's pods") {
  conf::Snapshot snapshot;
  conf::Service web = make_service("web", conf::ServiceType::ClusterIP, "127.96.0.10");
  web.internal_traffic_policy = conf::TrafficPolicy::Local;
  snapshot.services.push_back(web);
  const auto plan = server::plan_listeners(snapshot);
  REQUIRE(plan.size() == 1);
  CHECK(plan[0].backend_key == "default/web:80@local");
}

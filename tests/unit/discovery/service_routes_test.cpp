#include "discovery/service_routes.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

using namespace svcproxy;
using namespace svcproxy::discovery;

namespace {

conf::Service service(conf::ServiceType type) {
  conf::Service s;
  s.namespace_name = "shop";
  s.name = "web";
  s.type = type;
  conf::ServicePort port;
  port.port = 8080;
  s.ports.push_back(port);
  return s;
}

std::vector<ExternalRoute> listed(const Routes& routes) {
  return {routes.begin(), routes.end()};
}

}  // namespace

TEST_CASE("a route key is namespace/name:port, with @local or @nodes for external routes") {
  const conf::Service web = service(conf::ServiceType::LoadBalancer);
  const conf::ServicePort& port = web.ports[0];
  CHECK(service_port_key(web, port) == "shop/web:8080");
  CHECK(route_key(web, port, ExternalRoute::Cluster) == "shop/web:8080");
  CHECK(route_key(web, port, ExternalRoute::NodeLocal) == "shop/web:8080@local");
  CHECK(route_key(web, port, ExternalRoute::EdgeNodes) == "shop/web:8080@nodes");
}

TEST_CASE("assign_route_key replaces what the buffer held") {
  const conf::Service web = service(conf::ServiceType::ClusterIP);
  std::string key = "a-much-longer-key-from-the-call-before:1@nodes";
  assign_route_key(key, web, web.ports[0], ExternalRoute::Cluster);
  CHECK(key == "shop/web:8080");
}

TEST_CASE("external routes follow externalTrafficPolicy, and an edge's nodes for LoadBalancer") {
  conf::Service web = service(conf::ServiceType::LoadBalancer);
  conf::ProxySettings proxy;
  CHECK(external_route(web, proxy, false) == ExternalRoute::Cluster);
  CHECK(external_route(web, proxy, true) == ExternalRoute::Cluster);
  web.external_traffic_policy = conf::TrafficPolicy::Local;
  CHECK(external_route(web, proxy, false) == ExternalRoute::NodeLocal);
  proxy.nodes = {{"node-a", "127.0.7.1"}};
  CHECK(external_route(web, proxy, false) == ExternalRoute::NodeLocal);  // NodePort
  CHECK(external_route(web, proxy, true) == ExternalRoute::EdgeNodes);
}

TEST_CASE("a service port needs Cluster, plus each external route a listener of it uses") {
  conf::ProxySettings proxy;
  CHECK(listed(routes_of(service(conf::ServiceType::ClusterIP), proxy)) ==
        std::vector{ExternalRoute::Cluster});
  CHECK(listed(routes_of(service(conf::ServiceType::LoadBalancer), proxy)) ==
        std::vector{ExternalRoute::Cluster});

  conf::Service local = service(conf::ServiceType::NodePort);
  local.external_traffic_policy = conf::TrafficPolicy::Local;
  CHECK(listed(routes_of(local, proxy)) ==
        std::vector{ExternalRoute::Cluster, ExternalRoute::NodeLocal});

  local.type = conf::ServiceType::LoadBalancer;
  proxy.nodes = {{"node-a", "127.0.7.1"}};
  CHECK(listed(routes_of(local, proxy)) ==
        std::vector{ExternalRoute::Cluster, ExternalRoute::NodeLocal, ExternalRoute::EdgeNodes});
  // A ClusterIP Service has no external listener, whatever its policy.
  local.type = conf::ServiceType::ClusterIP;
  CHECK(listed(routes_of(local, proxy)) == std::vector{ExternalRoute::Cluster});
}

// internalTrafficPolicy: Local (kube-proxy's CategorizeEndpoints): ClusterIP traffic only to
// this node's pods; the Cluster route stays for the API's Endpoints.
TEST_CASE("internalTrafficPolicy Local routes ClusterIP traffic to this node's pods") {
  conf::Service web = service(conf::ServiceType::ClusterIP);
  CHECK(internal_route(web) == ExternalRoute::Cluster);
  web.internal_traffic_policy = conf::TrafficPolicy::Local;
  CHECK(internal_route(web) == ExternalRoute::NodeLocal);
  CHECK(listed(routes_of(web, conf::ProxySettings{})) ==
        std::vector{ExternalRoute::Cluster, ExternalRoute::NodeLocal});
}

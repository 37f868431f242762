#include "discovery/service_routes.hpp"

#include <algorithm>

namespace svcproxy::discovery {

ExternalRoute external_route(const conf::Service& service, const conf::ProxySettings& proxy,
                             bool load_balancer) {
  if (load_balancer && conf::forwards_to_nodes(proxy)) return ExternalRoute::EdgeNodes;
  return service.external_traffic_policy == conf::TrafficPolicy::Local ? ExternalRoute::NodeLocal
                                                                       : ExternalRoute::Cluster;
}

ExternalRoute internal_route(const conf::Service& service) {
  return service.internal_traffic_policy == conf::TrafficPolicy::Local ? ExternalRoute::NodeLocal
                                                                       : ExternalRoute::Cluster;
}

Routes routes_of(const conf::Service& service, const conf::ProxySettings& proxy) {
  Routes routes;
  // Cluster always: the API's Endpoints and slices list every pod whatever the policies.
  routes.items[routes.count++] = ExternalRoute::Cluster;
  if (internal_route(service) == ExternalRoute::NodeLocal)
    routes.items[routes.count++] = ExternalRoute::NodeLocal;
  if (!conf::has_node_ports(service)) return routes;
  for (const bool load_balancer : {false, true}) {
    if (load_balancer && service.type != conf::ServiceType::LoadBalancer) continue;
    const ExternalRoute route = external_route(service, proxy, load_balancer);
    if (std::find(routes.begin(), routes.end(), route) == routes.end())
      routes.items[routes.count++] = route;
  }
  return routes;
}

void assign_route_key(std::string& key, const conf::Service& service, const conf::ServicePort& port,
                      ExternalRoute route) {
  key.assign(service.namespace_name);
  key += '/';
  key += service.name;
  key += ':';
  key += std::to_string(port.port);
  // TCP and UDP may share a number in one Service (DNS does); TCP keys stay as they were.
  if (port.transport == conf::Transport::Udp) key += "/UDP";
  switch (route) {
    case ExternalRoute::Cluster:
      break;
    case ExternalRoute::NodeLocal:
      key += "@local";
      break;
    case ExternalRoute::EdgeNodes:
      key += "@nodes";
      break;
  }
}

std::string route_key(const conf::Service& service, const conf::ServicePort& port,
                      ExternalRoute route) {
  std::string key;
  assign_route_key(key, service, port, route);
  return key;
}

std::string service_port_key(const conf::Service& service, const conf::ServicePort& port) {
  return route_key(service, port, ExternalRoute::Cluster);
}

}  // namespace svcproxy::discovery

// The routes of a service port and the one key each route's Backend is known by everywhere
// (routing, listeners, logs, metrics, the admin API): "namespace/name:port" ("...:53/UDP"
// for a UDP port), plus "@local" or "@nodes" for the external routes. Listeners
// (server/control/listen_plan) and the backends built for them must agree on these keys, so both
// ask here.
#pragma once

#include <array>
#include <cstddef>
#include <string>

#include "conf/model.hpp"

namespace svcproxy::discovery {

// Traffic that enters through a NodePort or LoadBalancer may be routed differently from
// ClusterIP traffic, as kube-proxy does; each such route is a backend of its own.
enum class ExternalRoute {
  Cluster,    // every ready pod of the service
  NodeLocal,  // externalTrafficPolicy or internalTrafficPolicy Local — only pods whose
              // spec.nodeName is this node
  EdgeNodes,  // an edge instance (ProxyConfig nodes[]): the nodes, at the service's nodePort
};

// How traffic arriving at a NodePort listener (`load_balancer` false) or a LoadBalancer
// listener (true) of this service is routed.
ExternalRoute external_route(const conf::Service& service, const conf::ProxySettings& proxy,
                             bool load_balancer);

// How ClusterIP traffic is routed: internalTrafficPolicy Local keeps it on this node's pods
// (none there: nothing is sent elsewhere, as kube-proxy drops it).
ExternalRoute internal_route(const conf::Service& service);

// At most one route of each kind, without an allocation (asked 10,000 times a reload).
struct Routes {
  std::array<ExternalRoute, 3> items{};
  std::size_t count = 0;

  const ExternalRoute* begin() const { return items.data(); }
  const ExternalRoute* end() const { return items.data() + count; }
  std::size_t size() const { return count; }
};

// The routes each port of the service needs: Cluster always (the API lists its pods), the
// others when one of its listeners uses them.
Routes routes_of(const conf::Service& service, const conf::ProxySettings& proxy);

// The key of one route of a service port, written into `key`, whose buffer is reused from
// one call to the next (a reload looks up 10,000 of them). The only place a key is built.
void assign_route_key(std::string& key, const conf::Service& service, const conf::ServicePort& port,
                      ExternalRoute route);

// assign_route_key() into a new string.
std::string route_key(const conf::Service& service, const conf::ServicePort& port,
                      ExternalRoute route);

// "namespace/name:port" — the key of the port's Cluster route, the one every port has.
std::string service_port_key(const conf::Service& service, const conf::ServicePort& port);

}  // namespace svcproxy::discovery

// kube-proxy's per-Service health check (pkg/proxy/healthcheck/service_health.go): a
// LoadBalancer Service with externalTrafficPolicy Local has a healthCheckNodePort where
// every node answers how many of the Service's pods it holds, so the load balancer in
// front (a cloud's, or an svcproxy edge) sends traffic only to nodes that can serve it.
// Pure: tested without sockets.
#pragma once

#include <string>
#include <vector>

#include "discovery/backends.hpp"
#include "server/admin/admin_routes.hpp"

namespace svcproxy::server {

// What one health check port answers for.
struct ServiceHealthTarget {
  std::string namespace_name;
  std::string name;
  // The Service's node-local routes (discovery::route_key of each port's NodeLocal route):
  // their endpoints are this node's pods.
  std::vector<std::string> backend_keys;

  friend bool operator==(const ServiceHealthTarget&, const ServiceHealthTarget&) = default;
};

// This node's pods of the Service that take new traffic now (readiness probe passing, not
// terminating, not ejected), each counted once whatever its number of ports.
int local_ready_endpoints(const ServiceHealthTarget& target, const discovery::BackendMap& backends,
                          lb::Clock::time_point now);

// Any path and method, as kube-proxy: 200 when the node holds a ready pod and the proxy
// serves, else 503; the body is kube-proxy's JSON, and X-Load-Balancing-Endpoint-Weight
// carries the count (a weighting load balancer's hint).
AdminResponse service_health_response(const AdminRequest& request,
                                      const ServiceHealthTarget& target, int local_endpoints,
                                      bool proxy_healthy);

}  // namespace svcproxy::server

// kube-proxy's health endpoints (pkg/proxy/healthcheck/proxy_health.go), served on
// ProxyConfig healthzAddress (127.0.0.1:10256 by default, as kube-proxy's healthz port), so
// whatever checks a kube-proxy (a cloud load balancer's node check, a DaemonSet probe)
// checks svcproxy the same way: /healthz is 200 while svcproxy serves and the node takes
// traffic, 503 while it starts or drains; /livez ignores draining. The body is
// kube-proxy's JSON. Pure: tested without sockets.
#pragma once

#include <chrono>

#include "server/admin/admin_routes.hpp"

namespace svcproxy::server {

// `last_updated`: when the running configuration was applied.
AdminResponse kube_proxy_health_response(const AdminRequest& request, Readiness readiness,
                                         std::chrono::system_clock::time_point last_updated,
                                         std::chrono::system_clock::time_point now);

}  // namespace svcproxy::server

// Turns svcproxy's own state into Prometheus metric families. Control thread: reads the
// per-worker counters (relaxed atomics), the backends and ControlStats.
#pragma once

#include <prometheus/metric_family.h>

#include <vector>

#include "discovery/backends.hpp"
#include "server/control/control_stats.hpp"
#include "server/metrics/metrics.hpp"
#include "server/tls/tls_counters.hpp"
#include "server/udp/udp_counters.hpp"

namespace svcproxy::server {

// svcproxy_connections_*, _bytes_total, _http_*, _upstream_* per {namespace, service, port}.
std::vector<prometheus::MetricFamily> service_families(const ServiceMetricsMap& services);

// svcproxy_endpoints{state} and svcproxy_endpoint_ready{pod, address}.
std::vector<prometheus::MetricFamily> endpoint_families(const discovery::BackendMap& backends,
                                                        lb::Clock::time_point now);

// svcproxy_config_* and svcproxy_dns_resolutions_total.
std::vector<prometheus::MetricFamily> control_families(const ControlStats& stats);

// svcproxy_local_resource_errors_total{kind}, svcproxy_accept_errors_total{reason}.
std::vector<prometheus::MetricFamily> local_fault_families(const LocalFaultCounters& counters);

// svcproxy_tls_handshakes_total{result="success",version}, and the failures by reason in
// svcproxy_tls_handshake_errors_total{reason}.
std::vector<prometheus::MetricFamily> tls_families(const TlsCounters& counters);

// svcproxy_udp_sessions, _sessions_ended_total{reason}, _datagrams_total{direction},
// _bytes_total{direction}, _dropped_total{reason}.
std::vector<prometheus::MetricFamily> udp_families(const UdpCounters& counters);

}  // namespace svcproxy::server

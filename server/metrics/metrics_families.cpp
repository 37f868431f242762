#include "server/metrics/metrics_families.hpp"

#include "server/admin/endpoint_status.hpp"
#include "server/metrics/metrics_aggregate.hpp"

namespace svcproxy::server {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
using Labels = std::vector<ClientMetric::Label>;

Labels service_labels(const ServiceLabels& service) {
  return {
      {"namespace", service.namespace_name}, {"service", service.service}, {"port", service.port}};
}

Labels with(Labels labels, std::string name, std::string value) {
  labels.push_back({std::move(name), std::move(value)});
  return labels;
}

ClientMetric counter(Labels labels, double value) {
  ClientMetric metric;
  metric.label = std::move(labels);
  metric.counter.value = value;
  return metric;
}

ClientMetric gauge(Labels labels, double value) {
  ClientMetric metric;
  metric.label = std::move(labels);
  metric.gauge.value = value;
  return metric;
}

ClientMetric histogram(Labels labels, const ServiceTotals& totals) {
  ClientMetric metric;
  metric.label = std::move(labels);
  for (std::size_t i = 0; i < kDurationBuckets.size(); ++i)
    metric.histogram.bucket.push_back({totals.duration_buckets[i], kDurationBuckets[i]});
  metric.histogram.bucket.push_back(
      {totals.duration_buckets.back(), std::numeric_limits<double>::infinity()});
  metric.histogram.sample_count = totals.duration_buckets.back();
  metric.histogram.sample_sum = totals.duration_sum_seconds;
  return metric;
}

// The families service_families() fills, in exposition order.
struct ServiceFamilies {
  MetricFamily active{
      "svcproxy_connections_active", "Open client connections.", MetricType::Gauge, {}};
  MetricFamily total{
      "svcproxy_connections_total", "Client connections accepted.", MetricType::Counter, {}};
  MetricFamily bytes{"svcproxy_bytes_total",
                     "Bytes relayed; direction=received from clients, sent to clients.",
                     MetricType::Counter,
                     {}};
  MetricFamily requests{"svcproxy_http_requests_total",
                        "HTTP requests answered, by status code.",
                        MetricType::Counter,
                        {}};
  MetricFamily duration{"svcproxy_http_request_duration_seconds",
                        "Time from request received to response sent.",
                        MetricType::Histogram,
                        {}};
  MetricFamily failures{
      "svcproxy_upstream_connect_failures_total",
      "Connects to a pod that failed, each attempt (also those a retry hid), by reason.",
      MetricType::Counter,
      {}};
  MetricFamily retries{"svcproxy_upstream_retries_total",
                       "HTTP requests sent again to another pod.",
                       MetricType::Counter,
                       {}};
  MetricFamily rejected{"svcproxy_http_rejected_requests_total",
                        "HTTP requests svcproxy refused itself (never sent to a pod), by reason.",
                        MetricType::Counter,
                        {}};
};

void add_service(const ServiceLabels& service, const ServiceTotals& totals, ServiceFamilies& f) {
  const Labels labels = service_labels(service);
  f.active.metric.push_back(gauge(labels, static_cast<double>(totals.connections_active())));
  f.total.metric.push_back(counter(labels, static_cast<double>(totals.connections_opened)));
  f.bytes.metric.push_back(
      counter(with(labels, "direction", "received"), static_cast<double>(totals.bytes_received)));
  f.bytes.metric.push_back(
      counter(with(labels, "direction", "sent"), static_cast<double>(totals.bytes_sent)));
  for (const auto& [code, count] : totals.http_requests)
    f.requests.metric.push_back(counter(with(labels, "code", code ? std::to_string(code) : "other"),
                                        static_cast<double>(count)));
  if (totals.duration_buckets.back() != 0) f.duration.metric.push_back(histogram(labels, totals));
  // Every reason, zeros too: an alert on refused connects needs the series before the first.
  for (std::size_t fault = 0; fault < kPodFaults; ++fault)
    f.failures.metric.push_back(
        counter(with(labels, "reason", to_string(static_cast<SocketFault>(fault))),
                static_cast<double>(totals.upstream_connect_failures[fault])));
  f.retries.metric.push_back(counter(labels, static_cast<double>(totals.upstream_retries)));
  // Only the reasons seen: sixteen zero series per service port would drown the rest.
  for (std::size_t reason = 0; reason < kRejectReasons; ++reason) {
    if (totals.rejected_requests[reason] == 0) continue;
    f.rejected.metric.push_back(
        counter(with(labels, "reason", to_string(static_cast<RejectReason>(reason))),
                static_cast<double>(totals.rejected_requests[reason])));
  }
}

ServiceLabels labels_of(const lb::Backend& backend) {
  const auto& s = backend.settings();
  return {s.service_namespace, s.service_name, std::to_string(s.service_port)};
}

}  // namespace

std::vector<MetricFamily> service_families(const ServiceMetricsMap& services) {
  ServiceFamilies f;
  for (const auto& [key, metrics] : services)
    add_service(metrics->labels(), aggregate(*metrics), f);
  return {std::move(f.active),   std::move(f.total),    std::move(f.bytes),
          std::move(f.requests), std::move(f.duration), std::move(f.failures),
          std::move(f.retries),  std::move(f.rejected)};
}

std::vector<MetricFamily> endpoint_families(const discovery::BackendMap& backends,
                                            lb::Clock::time_point now) {
  MetricFamily states{
      "svcproxy_endpoints", "Endpoints of a service port by state.", MetricType::Gauge, {}};
  MetricFamily ready{"svcproxy_endpoint_ready",
                     "1 when the endpoint takes new traffic, 0 when it is excluded.",
                     MetricType::Gauge,
                     {}};
  constexpr EndpointState kStates[] = {EndpointState::Ready, EndpointState::NotReady,
                                       EndpointState::Terminating, EndpointState::Ejected};
  for (const auto& [key, backend] : backends) {
    const Labels labels = service_labels(labels_of(*backend));
    std::map<EndpointState, int> count;
    for (const auto& endpoint : backend->endpoints()) {
      const EndpointStatus status = endpoint_status(*endpoint, now);
      ++count[status.state];
      const auto& address = endpoint->address();
      ready.metric.push_back(gauge(
          with(with(labels, "pod", address.pod_key()), "address", address.key()), status.ready));
    }
    for (const EndpointState state : kStates)
      states.metric.push_back(gauge(with(labels, "state", to_string(state)), count[state]));
  }
  return {std::move(states), std::move(ready)};
}

namespace {

void append_cluster_families(const cluster::ClusterStats& stats,
                             std::vector<MetricFamily>& families) {
  const auto number = [](auto value) { return static_cast<double>(value); };
  families.push_back({"svcproxy_cluster_connected",
                      "1 while etcd answers; 0 while the node serves the last state it had.",
                      MetricType::Gauge,
                      {gauge({}, stats.connected ? 1 : 0)}});
  families.push_back({"svcproxy_cluster_watch_events_total",
                      "Events received on the watch of the cluster state.",
                      MetricType::Counter,
                      {counter({}, number(stats.watch_events))}});
  MetricFamily relists{"svcproxy_cluster_relists_total",
                       "Full lists of the cluster state, by reason.",
                       MetricType::Counter,
                       {}};
  for (std::size_t reason = 0; reason < cluster::kRelistReasons; ++reason)
    relists.metric.push_back(
        counter({{"reason", cluster::to_string(static_cast<cluster::RelistReason>(reason))}},
                number(stats.relists[reason])));
  families.push_back(std::move(relists));
  families.push_back({"svcproxy_cluster_last_sync_timestamp_seconds",
                      "When the last list or watch event was applied, as a Unix time.",
                      MetricType::Gauge,
                      {gauge({}, stats.last_sync_unix_seconds)}});
  families.push_back({"svcproxy_cluster_lease_renewals_total",
                      "Keepalives of the node's registration lease that etcd accepted.",
                      MetricType::Counter,
                      {counter({}, number(stats.lease_renewals))}});
  families.push_back({"svcproxy_cluster_lease_renewal_failures_total",
                      "Lease grants and keepalives that failed (etcd away, lease expired).",
                      MetricType::Counter,
                      {counter({}, number(stats.lease_renewal_failures))}});
}

}  // namespace

std::vector<MetricFamily> control_families(const ControlStats& stats) {
  MetricFamily reloads{"svcproxy_config_reloads_total",
                       "Configuration reloads (SIGHUP) by result.",
                       MetricType::Counter,
                       {}};
  reloads.metric.push_back(
      counter({{"result", "success"}}, static_cast<double>(stats.reloads_succeeded)));
  reloads.metric.push_back(
      counter({{"result", "failure"}}, static_cast<double>(stats.reloads_failed)));
  MetricFamily last{"svcproxy_config_last_reload_success_timestamp_seconds",
                    "When the configuration in force was loaded, as a Unix time.",
                    MetricType::Gauge,
                    {gauge({}, stats.last_reload_success_unix_seconds)}};
  MetricFamily dns{"svcproxy_dns_resolutions_total",
                   "DNS resolutions of pod names by result.",
                   MetricType::Counter,
                   {}};
  for (int result = 0; stats.dns_results && result < discovery::kDnsResultCount; ++result)
    dns.metric.push_back(
        counter({{"result", discovery::to_string(static_cast<discovery::DnsResult>(result))}},
                static_cast<double>((*stats.dns_results)[result])));
  std::vector<MetricFamily> families{std::move(reloads), std::move(last), std::move(dns)};
  if (stats.cluster) append_cluster_families(*stats.cluster, families);
  return families;
}

std::vector<prometheus::MetricFamily> local_fault_families(const LocalFaultCounters& counters) {
  MetricFamily local{"svcproxy_local_resource_errors_total",
                     "Accepts and pod connects that failed for want of svcproxy's own resources "
                     "(descriptors, buffers, local ports); HTTP answers 503, no pod is blamed.",
                     MetricType::Counter,
                     {}};
  MetricFamily accept{"svcproxy_accept_errors_total",
                      "Client connections accept(2) could not take (they wait in the backlog), "
                      "by reason.",
                      MetricType::Counter,
                      {}};
  for (std::size_t fault = 0; fault < kSocketFaults; ++fault) {
    const auto kind = static_cast<SocketFault>(fault);
    if (is_local(kind))
      local.metric.push_back(counter({{"kind", to_string(kind)}},
                                     static_cast<double>(counters.local_resource_errors[fault].load(
                                         std::memory_order_relaxed))));
    accept.metric.push_back(counter(
        {{"reason", to_string(kind)}},
        static_cast<double>(counters.accept_errors[fault].load(std::memory_order_relaxed))));
  }
  return {std::move(local), std::move(accept)};
}

namespace {

using VersionCounts = std::array<std::atomic<std::uint64_t>, kTlsVersions>;

MetricFamily handshake_family(std::string name, std::string help, const VersionCounts& full,
                              const VersionCounts& resumed) {
  MetricFamily family{std::move(name), std::move(help), MetricType::Counter, {}};
  for (std::size_t version = 0; version < kTlsVersions; ++version) {
    const char* const label = to_string(static_cast<TlsVersion>(version));
    family.metric.push_back(
        counter({{"result", "full"}, {"version", label}},
                static_cast<double>(full[version].load(std::memory_order_relaxed))));
    family.metric.push_back(
        counter({{"result", "resumed"}, {"version", label}},
                static_cast<double>(resumed[version].load(std::memory_order_relaxed))));
  }
  return family;
}

}  // namespace

std::vector<prometheus::MetricFamily> tls_families(const TlsCounters& counters) {
  MetricFamily handshakes = handshake_family(
      "svcproxy_tls_handshakes_total",
      "TLS handshakes on TLS ports that finished, full or resumed from a session ticket, by "
      "protocol version.",
      counters.handshakes, counters.resumed);
  MetricFamily upstream = handshake_family(
      "svcproxy_upstream_tls_handshakes_total",
      "TLS handshakes with pods (backend-protocol https) that finished, full or resumed from "
      "the pod's last session, by protocol version.",
      counters.upstream_handshakes, counters.upstream_resumed);
  MetricFamily failures{"svcproxy_tls_handshake_errors_total",
                        "Connections to TLS ports closed before a finished handshake, by reason "
                        "(plain_http ones were answered 400).",
                        MetricType::Counter,
                        {}};
  for (std::size_t reason = 0; reason < kTlsFailures; ++reason)
    failures.metric.push_back(
        counter({{"reason", to_string(static_cast<TlsFailure>(reason))}},
                static_cast<double>(counters.failures[reason].load(std::memory_order_relaxed))));
  return {std::move(handshakes), std::move(failures), std::move(upstream)};
}

std::vector<prometheus::MetricFamily> udp_families(const UdpCounters& counters) {
  const auto read = [](const UdpCounters::Counter& counter) {
    return static_cast<double>(counter.load(std::memory_order_relaxed));
  };
  MetricFamily sessions{
      "svcproxy_udp_sessions",
      "UDP sessions open now (one per client address and listener).",
      MetricType::Gauge,
      {gauge({}, static_cast<double>(counters.sessions.load(std::memory_order_relaxed)))}};
  MetricFamily ended{"svcproxy_udp_sessions_ended_total",
                     "UDP sessions ended early: idle past timeouts.udpIdle (expired), the least "
                     "recently active at limits.maxUdpSessions (evicted), or their pod stopped "
                     "serving and the next datagram went to another (moved).",
                     MetricType::Counter,
                     {counter({{"reason", "expired"}}, read(counters.sessions_expired)),
                      counter({{"reason", "evicted"}}, read(counters.sessions_evicted)),
                      counter({{"reason", "moved"}}, read(counters.sessions_moved))}};
  MetricFamily datagrams{
      "svcproxy_udp_datagrams_total",
      "UDP datagrams relayed, to pods and back to clients.",
      MetricType::Counter,
      {counter({{"direction", "to_pods"}}, read(counters.datagrams_to_pods)),
       counter({{"direction", "to_clients"}}, read(counters.datagrams_to_clients))}};
  MetricFamily bytes{"svcproxy_udp_bytes_total",
                     "UDP payload bytes relayed, to pods and back to clients.",
                     MetricType::Counter,
                     {counter({{"direction", "to_pods"}}, read(counters.bytes_to_pods)),
                      counter({{"direction", "to_clients"}}, read(counters.bytes_to_clients))}};
  MetricFamily dropped{
      "svcproxy_udp_dropped_total",
      "UDP datagrams dropped: no pod may take them, a socket buffer was full or the pod's port "
      "refused, or limits.maxUdpSessions was taken by other listeners.",
      MetricType::Counter,
      {counter({{"reason", "no_endpoint"}}, read(counters.dropped_no_endpoint)),
       counter({{"reason", "send_failed"}}, read(counters.dropped_send_failed)),
       counter({{"reason", "session_limit"}}, read(counters.dropped_session_limit))}};
  return {std::move(sessions), std::move(ended), std::move(datagrams), std::move(bytes),
          std::move(dropped)};
}

}  // namespace svcproxy::server

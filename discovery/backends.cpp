#include "discovery/backends.hpp"

#include <memory>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "discovery/service_endpoints.hpp"
#include "lb/session_affinity.hpp"

namespace svcproxy::discovery {
namespace {

lb::BackendSettings settings_for(const conf::Service& service, const conf::ServicePort& port,
                                 std::string key, const conf::ProxySettings& proxy) {
  lb::BackendSettings settings;
  settings.name = std::move(key);
  settings.service_namespace = service.namespace_name;
  settings.service_name = service.name;
  settings.port_name = port.name;
  settings.service_port = port.port;
  settings.load_balancing = conf::effective_load_balancing(service, proxy);
  settings.session_affinity = service.session_affinity;
  settings.affinity_timeout = service.affinity_timeout;
  settings.publish_not_ready_addresses = service.publish_not_ready_addresses;
  settings.outlier_detection = proxy.outlier_detection;
  return settings;
}

// Several per key while a pod that came back has its old Endpoint still terminating.
using EndpointIndex = std::unordered_multimap<std::string, lb::EndpointPtr>;

EndpointIndex index_endpoints(const BackendMap& backends, const std::string& key) {
  EndpointIndex index;
  const auto found = backends.find(key);
  if (found == backends.end()) return index;
  for (const auto& endpoint : found->second->endpoints())
    index.emplace(endpoint->address().key(), endpoint);
  return index;
}

// The previous Endpoint for the same pod, address and probe, if any. A changed probe
// needs a new Endpoint, or the prober would keep probing the old way; so does a pod that
// comes back while its old Endpoint is still terminating (terminating never ends: the old
// one serves out its grace beside the new).
lb::EndpointPtr reuse(const EndpointIndex& previous, const lb::EndpointAddress& address) {
  const auto [first, last] = previous.equal_range(address.key());
  for (auto found = first; found != last; ++found) {
    if (found->second->terminating()) continue;
    const auto& old = found->second->address();
    if (old == address && old.readiness_probe == address.readiness_probe) return found->second;
  }
  return nullptr;
}

// The Service's ClientIP table: one for all its ports, carried over from the previous
// backends so clients keep their pod across a reload (unless the timeout changed).
std::shared_ptr<lb::AffinityTable> affinity_table_for(const conf::Service& service,
                                                      const BackendMap& previous) {
  if (service.session_affinity != conf::SessionAffinity::ClientIP) return nullptr;
  for (const auto& port : service.ports) {
    const auto found = previous.find(service_port_key(service, port));
    if (found == previous.end()) continue;
    const auto& table = found->second->settings().affinity;
    if (table && table->timeout() == service.affinity_timeout) return table;
  }
  return std::make_shared<lb::AffinityTable>(service.affinity_timeout);
}

// Every endpoint of `previous` that `next` no longer holds (its pod left the file or DNS,
// its address or probe changed, or its service port is gone) is told it is terminating, so
// a worker still picking from the previous Backend avoids it and in-flight users, metrics
// and the API can see it. An endpoint only ever moves to the Backend of the same key, and a
// kept Backend keeps all of its endpoints: only the previous Backends that `next` does not
// hold as such need a look, against the endpoints of those `built`.
void mark_removed_terminating(const BackendMap& previous, const BackendMap& next,
                              const BackendMap& built, lb::Clock::time_point now) {
  std::unordered_set<const lb::Endpoint*> kept;
  for (const auto& [key, backend] : built)
    for (const auto& endpoint : backend->endpoints())
      kept.insert(endpoint.get());
  auto same = next.begin();  // both maps are in key order: one walk, no lookups
  for (const auto& [key, backend] : previous) {
    while (same != next.end() && same->first < key)
      ++same;
    if (same != next.end() && same->first == key && same->second == backend) continue;
    for (const auto& endpoint : backend->endpoints())
      if (!kept.contains(endpoint.get())) endpoint->set_terminating(now);
  }
}

// Kubernetes' terminating-endpoint rule: a removed pod stays in its set, terminating, for
// the grace period (timeouts.drain, like terminationGracePeriodSeconds). Backend::pick
// never prefers it, but when every endpoint of a port is terminating they still serve
// rather than the service answering 503 the moment its pods are removed.
void carry_over_terminating(const EndpointIndex& old_endpoints, lb::Clock::time_point now,
                            conf::Duration grace, std::vector<lb::EndpointPtr>& endpoints) {
  const std::unordered_set<const lb::Endpoint*> live = [&] {
    std::unordered_set<const lb::Endpoint*> pointers;
    for (const auto& endpoint : endpoints)
      pointers.insert(endpoint.get());
    return pointers;
  }();
  for (const auto& [key, endpoint] : old_endpoints) {
    if (live.contains(endpoint.get())) continue;
    endpoint->set_terminating(now);
    if (endpoint->terminating_since() + grace > now) endpoints.push_back(endpoint);
  }
}

// What an edge asks a node before sending it traffic that stays on the node: its
// healthCheckNodePort, which answers 200 only while the node holds a ready pod.
std::optional<conf::Probe> node_health_probe(const conf::Service& service,
                                             const conf::ProxySettings& proxy) {
  if (!conf::needs_health_check_node_port(service) || service.health_check_node_port == 0)
    return std::nullopt;
  const conf::NodeHealthCheck& check = proxy.node_health_check;
  conf::Probe probe;
  probe.kind = conf::Probe::Kind::HttpGet;
  probe.path = "/healthz";
  probe.port.number = service.health_check_node_port;
  probe.period = check.period;
  probe.timeout = check.timeout;
  probe.failure_threshold = check.failure_threshold;
  probe.success_threshold = check.success_threshold;
  return probe;
}

// The addresses behind one route of a service port.
std::vector<lb::EndpointAddress> route_addresses(const conf::Service& service,
                                                 const conf::ServicePort& port,
                                                 const conf::Snapshot& snapshot,
                                                 const PodIndex& pods, ExternalRoute route) {
  std::vector<lb::EndpointAddress> addresses;
  if (route == ExternalRoute::EdgeNodes) {
    const auto probe = node_health_probe(service, snapshot.proxy);
    for (const auto& node : snapshot.proxy.nodes)
      if (!node.address.empty())  // an entry without one only tells a zone
        addresses.push_back(
            {"", node.name, node.address, port.node_port, node.name, probe, node.zone});
    return addresses;
  }
  addresses = select_endpoints(service, port, pods);
  if (route == ExternalRoute::NodeLocal)
    std::erase_if(addresses,
                  [&](const auto& a) { return a.node_name != snapshot.proxy.node_name; });
  for (auto& address : addresses)
    address.zone = conf::zone_of_node(snapshot.proxy, address.node_name);
  return addresses;
}

}  // namespace

BackendMap build_backends(const conf::Snapshot& snapshot, const PodIndex& pods,
                          const BackendMap& previous, lb::Clock::time_point now,
                          const KeptBackends& kept) {
  const conf::Duration grace = snapshot.proxy.timeouts.drain;
  BackendMap backends;
  BackendMap built;  // what was built rather than kept, to find the endpoints that left
  for (std::size_t i = 0; i < snapshot.services.size(); ++i) {
    const conf::Service& service = snapshot.services[i];
    if (!kept.empty() && !kept[i].empty()) {
      for (const auto& backend : kept[i])
        backends.emplace(backend->name(), backend);
      continue;
    }
    const auto affinity = affinity_table_for(service, previous);
    for (const auto& port : service.ports) {
      for (const ExternalRoute route : routes_of(service, snapshot.proxy)) {
        const std::string key = route_key(service, port, route);
        const EndpointIndex old_endpoints = index_endpoints(previous, key);
        std::vector<lb::EndpointPtr> endpoints;
        for (auto& address : route_addresses(service, port, snapshot, pods, route)) {
          lb::EndpointPtr endpoint = reuse(old_endpoints, address);
          endpoints.push_back(endpoint ? endpoint : std::make_shared<lb::Endpoint>(address));
        }
        carry_over_terminating(old_endpoints, now, grace, endpoints);
        lb::BackendSettings settings = settings_for(service, port, key, snapshot.proxy);
        // A node is no pod: the edge keeps its own per-port table (Backend makes one).
        settings.affinity = route == ExternalRoute::EdgeNodes ? nullptr : affinity;
        // kube-proxy applies topology to the Cluster endpoints only: the Local routes
        // already keep traffic on this node, and the edge's nodes are no pods.
        if (route == ExternalRoute::Cluster && service.prefer_close)
          settings.topology_zone = snapshot.proxy.zone;
        backends[key] =
            std::make_shared<const lb::Backend>(std::move(settings), std::move(endpoints));
        built[key] = backends[key];
      }
    }
  }
  mark_removed_terminating(previous, backends, built, now);
  return backends;
}

BackendMap build_backends(const conf::Snapshot& snapshot, const conf::PodList& pods,
                          const BackendMap& previous, lb::Clock::time_point now) {
  const PodIndex index = PodIndex::for_services(pods, snapshot.services.size());
  return build_backends(snapshot, index, previous, now, {});
}

std::optional<lb::Clock::time_point> next_termination_end(const BackendMap& backends,
                                                          conf::Duration grace) {
  std::optional<lb::Clock::time_point> earliest;
  for (const auto& [key, backend] : backends)
    for (const auto& endpoint : backend->endpoints())
      if (endpoint->terminating()) {
        const auto end = endpoint->terminating_since() + grace;
        if (!earliest || end < *earliest) earliest = end;
      }
  return earliest;
}

}  // namespace svcproxy::discovery

#include "discovery/backends.hpp"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "discovery/service_endpoints.hpp"
#include "lb/session_affinity.hpp"

namespace svcproxy::discovery {
namespace {

lb::BackendSettings settings_for(const conf::Service& service, const conf::ServicePort& port,
                                 const conf::ProxySettings& proxy) {
  lb::BackendSettings settings;
  settings.name = service_port_key(service, port);
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

using EndpointIndex = std::unordered_map<std::string, lb::EndpointPtr>;

EndpointIndex index_endpoints(const BackendMap& backends, const std::string& key) {
  EndpointIndex index;
  const auto found = backends.find(key);
  if (found == backends.end()) return index;
  for (const auto& endpoint : found->second->endpoints())
    index.emplace(endpoint->address().key(), endpoint);
  return index;
}

// The previous Endpoint for the same pod, address and probe, if any. A changed probe
// needs a new Endpoint, or the prober would keep probing the old way.
lb::EndpointPtr reuse(const EndpointIndex& previous, const lb::EndpointAddress& address) {
  const auto found = previous.find(address.key());
  if (found == previous.end()) return nullptr;
  const auto& old = found->second->address();
  const bool same = old == address && old.readiness_probe == address.readiness_probe;
  return same ? found->second : nullptr;
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
// and the API can see it.
void mark_removed_terminating(const BackendMap& previous, const BackendMap& next,
                              lb::Clock::time_point now) {
  std::unordered_set<const lb::Endpoint*> kept;
  for (const auto& [key, backend] : next)
    for (const auto& endpoint : backend->endpoints())
      kept.insert(endpoint.get());
  for (const auto& [key, backend] : previous)
    for (const auto& endpoint : backend->endpoints())
      if (!kept.contains(endpoint.get())) endpoint->set_terminating(now);
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

}  // namespace

std::string service_port_key(const conf::Service& service, const conf::ServicePort& port) {
  return service.key() + ":" + std::to_string(port.port);
}

std::string route_key(const conf::Service& service, const conf::ServicePort& port,
                      ExternalRoute route) {
  switch (route) {
    case ExternalRoute::Cluster:
      return service_port_key(service, port);
    case ExternalRoute::NodeLocal:
      return service_port_key(service, port) + "@local";
    case ExternalRoute::EdgeNodes:
      return service_port_key(service, port) + "@nodes";
  }
  return service_port_key(service, port);
}

ExternalRoute external_route(const conf::Service& service, const conf::ProxySettings& proxy,
                             bool load_balancer) {
  if (load_balancer && !proxy.nodes.empty()) return ExternalRoute::EdgeNodes;
  return service.external_traffic_policy == conf::TrafficPolicy::Local ? ExternalRoute::NodeLocal
                                                                       : ExternalRoute::Cluster;
}

namespace {

// The addresses behind one route of a service port.
std::vector<lb::EndpointAddress> route_addresses(const conf::Service& service,
                                                 const conf::ServicePort& port,
                                                 const conf::Snapshot& snapshot,
                                                 const PodIndex& pods, ExternalRoute route) {
  std::vector<lb::EndpointAddress> addresses;
  if (route == ExternalRoute::EdgeNodes) {
    for (const auto& node : snapshot.proxy.nodes)
      addresses.push_back({"", node.name, node.address, port.node_port, node.name, std::nullopt});
    return addresses;
  }
  addresses = select_endpoints(service, port, pods);
  if (route == ExternalRoute::NodeLocal)
    std::erase_if(addresses,
                  [&](const auto& a) { return a.node_name != snapshot.proxy.node_name; });
  return addresses;
}

// The routes a service port needs: Cluster always, the others when a listener uses them.
std::vector<ExternalRoute> routes_of(const conf::Service& service,
                                     const conf::ProxySettings& proxy) {
  std::vector<ExternalRoute> routes{ExternalRoute::Cluster};
  if (service.type == conf::ServiceType::ClusterIP) return routes;
  for (const bool load_balancer : {false, true}) {
    if (load_balancer && service.type != conf::ServiceType::LoadBalancer) continue;
    const ExternalRoute route = external_route(service, proxy, load_balancer);
    if (std::find(routes.begin(), routes.end(), route) == routes.end()) routes.push_back(route);
  }
  return routes;
}

}  // namespace

BackendMap build_backends(const conf::Snapshot& snapshot, const std::vector<conf::Pod>& pods,
                          const BackendMap& previous, lb::Clock::time_point now) {
  const conf::Duration grace = snapshot.proxy.timeouts.drain;
  const PodIndex pod_index(pods);
  BackendMap backends;
  for (const auto& service : snapshot.services) {
    const auto affinity = affinity_table_for(service, previous);
    for (const auto& port : service.ports) {
      for (const ExternalRoute route : routes_of(service, snapshot.proxy)) {
        const std::string key = route_key(service, port, route);
        const EndpointIndex old_endpoints = index_endpoints(previous, key);
        std::vector<lb::EndpointPtr> endpoints;
        for (auto& address : route_addresses(service, port, snapshot, pod_index, route)) {
          lb::EndpointPtr endpoint = reuse(old_endpoints, address);
          endpoints.push_back(endpoint ? endpoint : std::make_shared<lb::Endpoint>(address));
        }
        carry_over_terminating(old_endpoints, now, grace, endpoints);
        lb::BackendSettings settings = settings_for(service, port, snapshot.proxy);
        settings.name = key;
        // A node is no pod: the edge keeps its own per-port table (Backend makes one).
        settings.affinity = route == ExternalRoute::EdgeNodes ? nullptr : affinity;
        backends[key] =
            std::make_shared<const lb::Backend>(std::move(settings), std::move(endpoints));
      }
    }
  }
  mark_removed_terminating(previous, backends, now);
  return backends;
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

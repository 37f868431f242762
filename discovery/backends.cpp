#include "discovery/backends.hpp"

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
// and the API can see it. Removed endpoints leave the set at once: Kubernetes' rule that
// terminating endpoints keep serving when a port has no other is kept by lb::Backend::pick
// for endpoints still in a set, but build_backends never keeps a removed one.
void mark_removed_terminating(const BackendMap& previous, const BackendMap& next) {
  std::unordered_set<const lb::Endpoint*> kept;
  for (const auto& [key, backend] : next)
    for (const auto& endpoint : backend->endpoints())
      kept.insert(endpoint.get());
  for (const auto& [key, backend] : previous)
    for (const auto& endpoint : backend->endpoints())
      if (!kept.contains(endpoint.get())) endpoint->set_terminating();
}

}  // namespace

std::string service_port_key(const conf::Service& service, const conf::ServicePort& port) {
  return service.key() + ":" + std::to_string(port.port);
}

BackendMap build_backends(const conf::Snapshot& snapshot, const std::vector<conf::Pod>& pods,
                          const BackendMap& previous) {
  BackendMap backends;
  for (const auto& service : snapshot.services) {
    const auto affinity = affinity_table_for(service, previous);
    for (const auto& port : service.ports) {
      const std::string key = service_port_key(service, port);
      const EndpointIndex old_endpoints = index_endpoints(previous, key);
      std::vector<lb::EndpointPtr> endpoints;
      for (auto& address : select_endpoints(service, port, pods)) {
        lb::EndpointPtr endpoint = reuse(old_endpoints, address);
        endpoints.push_back(endpoint ? endpoint : std::make_shared<lb::Endpoint>(address));
      }
      backends[key] = std::make_shared<const lb::Backend>(
          settings_for(service, port, snapshot.proxy), std::move(endpoints));
    }
  }
  mark_removed_terminating(previous, backends);
  return backends;
}

}  // namespace svcproxy::discovery

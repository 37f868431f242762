#include "discovery/backends.hpp"

#include <algorithm>
#include <memory>
#include <string_view>
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

}  // namespace

namespace {

// Beyond this many changed pods, finding the Services they touch costs more than
// rebuilding every Service.
constexpr std::size_t kMaxChangedPods = 32;
// Up to this many Services to build, scanning the pods beats indexing them.
constexpr std::size_t kMaxScannedServices = 8;

// The proxy settings a Backend is built from.
bool same_backend_settings(const conf::ProxySettings& a, const conf::ProxySettings& b) {
  return a.load_balancing == b.load_balancing && a.outlier_detection == b.outlier_detection &&
         a.nodes == b.nodes && a.node_name == b.node_name && a.timeouts.drain == b.timeouts.drain;
}

// Pods that differ between the two lists, compared by position (a pod that moved counts
// as changed at both places); nullopt when there are too many to be worth it. Pods whose
// documents did not change are the same objects in both lists: no comparison needed.
std::optional<std::vector<const conf::Pod*>> changed_pods(const conf::PodList& before,
                                                          const conf::PodList& after) {
  std::vector<const conf::Pod*> changed;
  const std::size_t common = std::min(before.size(), after.size());
  for (std::size_t i = 0; i < common; ++i) {
    if (conf::PodList::same_object(before, i, after, i) || before[i] == after[i]) continue;
    if (changed.size() + 2 > kMaxChangedPods) return std::nullopt;
    changed.push_back(&before[i]);
    changed.push_back(&after[i]);
  }
  const auto& longer = before.size() > after.size() ? before : after;
  if (changed.size() + longer.size() - common > kMaxChangedPods) return std::nullopt;
  for (std::size_t i = common; i < longer.size(); ++i)
    changed.push_back(&longer[i]);
  return changed;
}

// Whether the two lists hold the very same pod objects, in the same order.
bool same_pod_objects(const conf::PodList& before, const conf::PodList& after) {
  if (before.size() != after.size()) return false;
  for (std::size_t i = 0; i < before.size(); ++i)
    if (!conf::PodList::same_object(before, i, after, i)) return false;
  return true;
}

// A Service's namespace and name, without building "namespace/name" for 20,000 lookups.
using NameKey = std::pair<std::string_view, std::string_view>;
struct NameKeyHash {
  std::size_t operator()(const NameKey& key) const {
    const std::hash<std::string_view> hash;
    return hash(key.first) * 31 + hash(key.second);
  }
};

bool selects(const conf::Service& service, const conf::Pod& pod) {
  return !service.selector.empty() && pod.namespace_name == service.namespace_name &&
         conf::labels_contain(pod.labels, service.selector);
}

bool has_terminating(const lb::Backend& backend) {
  return std::any_of(backend.endpoints().begin(), backend.endpoints().end(),
                     [](const auto& endpoint) { return endpoint->terminating(); });
}

// For each Service of `snapshot`: the Backends to keep for its routes, or empty when it is
// to be built. See build_backends() in the header for when a Service is kept.
std::vector<std::vector<lb::BackendPtr>> kept_backends(
    const conf::Snapshot& snapshot, const std::optional<std::vector<const conf::Pod*>>& changed,
    const BackendMap& previous, const conf::Snapshot* built_from) {
  std::vector<std::vector<lb::BackendPtr>> kept(snapshot.services.size());
  if (!built_from || previous.empty() || !same_backend_settings(snapshot.proxy, built_from->proxy))
    return kept;
  if (!changed) return kept;
  // The previous definition of a Service: at the same place in the list, as a reload that
  // changed a few Services mostly finds it, else by name (hashed on first need).
  std::unordered_map<NameKey, const conf::Service*, NameKeyHash> before;
  const auto previous_definition = [&](std::size_t i) -> const conf::Service* {
    const conf::Service& service = snapshot.services[i];
    const auto& old_services = built_from->services;
    if (i < old_services.size() && old_services[i].name == service.name &&
        old_services[i].namespace_name == service.namespace_name)
      return &old_services[i];
    if (before.empty())
      for (const auto& old : old_services)
        before.emplace(NameKey{old.namespace_name, old.name}, &old);
    const auto found = before.find(NameKey{service.namespace_name, service.name});
    return found == before.end() ? nullptr : found->second;
  };
  // Hashed: 10,000 lookups in the ordered map compare long common prefixes.
  std::unordered_map<std::string_view, const lb::BackendPtr*> previous_by_key;
  previous_by_key.reserve(previous.size());
  for (const auto& [key, backend] : previous)
    previous_by_key.emplace(key, &backend);
  std::string key;
  for (std::size_t i = 0; i < snapshot.services.size(); ++i) {
    const conf::Service& service = snapshot.services[i];
    const conf::Service* old = previous_definition(i);
    if (!old || !(old == &service || *old == service)) continue;  // shared: the same
    if (std::any_of(changed->begin(), changed->end(),
                    [&](const conf::Pod* pod) { return selects(service, *pod); }))
      continue;
    const Routes routes = routes_of(service, snapshot.proxy);
    std::vector<lb::BackendPtr> backends;
    backends.reserve(service.ports.size() * routes.size());
    for (const auto& port : service.ports)
      for (const ExternalRoute route : routes) {
        assign_route_key(key, service, port, route);
        const auto found = previous_by_key.find(key);
        if (found == previous_by_key.end() || has_terminating(**found->second)) break;
        backends.push_back(*found->second);
      }
    if (backends.size() == service.ports.size() * routes.size()) kept[i] = std::move(backends);
  }
  return kept;
}

// The index to select pods with. The cached one (over the pods of the last build) serves
// again when those pods are the very same objects: a reload that changed a Service, not a
// Pod, neither scans 50,000 pods nor indexes them again. Otherwise a handful of Services
// scans, and more build an index, which is cached for the next build.
std::shared_ptr<const PodIndex> index_for(const conf::PodList& pods, std::size_t to_build,
                                          bool same_pods, std::shared_ptr<const PodIndex>* cache) {
  if (cache && *cache && same_pods) return *cache;
  if (to_build <= kMaxScannedServices) {
    if (cache) cache->reset();
    return std::make_shared<const PodIndex>(PodIndex::scanning(pods));
  }
  auto index = std::make_shared<const PodIndex>(pods);
  if (cache) *cache = index;
  return index;
}

}  // namespace

BackendMap build_backends(const conf::Snapshot& snapshot, const conf::PodList& pods,
                          const BackendMap& previous, lb::Clock::time_point now,
                          const conf::Snapshot* built_from,
                          std::shared_ptr<const PodIndex>* pod_index_cache) {
  const conf::Duration grace = snapshot.proxy.timeouts.drain;
  const auto changed = built_from ? changed_pods(built_from->pods, pods)
                                  : std::optional<std::vector<const conf::Pod*>>{};
  const auto kept = kept_backends(snapshot, changed, previous, built_from);
  const std::size_t to_build = std::count_if(kept.begin(), kept.end(),
                                             [](const auto& backends) { return backends.empty(); });
  const std::shared_ptr<const PodIndex> pod_index = index_for(
      pods, to_build, built_from && same_pod_objects(built_from->pods, pods), pod_index_cache);
  BackendMap backends;
  BackendMap built;  // what was built rather than kept, to find the endpoints that left
  for (std::size_t i = 0; i < snapshot.services.size(); ++i) {
    const conf::Service& service = snapshot.services[i];
    if (!kept[i].empty()) {
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
        for (auto& address : route_addresses(service, port, snapshot, *pod_index, route)) {
          lb::EndpointPtr endpoint = reuse(old_endpoints, address);
          endpoints.push_back(endpoint ? endpoint : std::make_shared<lb::Endpoint>(address));
        }
        carry_over_terminating(old_endpoints, now, grace, endpoints);
        lb::BackendSettings settings = settings_for(service, port, key, snapshot.proxy);
        // A node is no pod: the edge keeps its own per-port table (Backend makes one).
        settings.affinity = route == ExternalRoute::EdgeNodes ? nullptr : affinity;
        backends[key] =
            std::make_shared<const lb::Backend>(std::move(settings), std::move(endpoints));
        built[key] = backends[key];
      }
    }
  }
  mark_removed_terminating(previous, backends, built, now);
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

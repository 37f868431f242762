#include "discovery/backend_builder.hpp"

#include <algorithm>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "discovery/service_routes.hpp"

namespace svcproxy::discovery {
namespace {

// Beyond this many changed pods, finding the Services they touch costs more than
// rebuilding every Service.
constexpr std::size_t kMaxChangedPods = 32;

// The proxy settings a Backend is built from.
bool same_backend_settings(const conf::ProxySettings& a, const conf::ProxySettings& b) {
  return a.load_balancing == b.load_balancing && a.outlier_detection == b.outlier_detection &&
         a.nodes == b.nodes && a.node_name == b.node_name && a.zone == b.zone &&
         a.timeouts.drain == b.timeouts.drain && a.node_health_check == b.node_health_check;
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

}  // namespace

const BackendMapPtr& BackendBuilder::build(const conf::Snapshot& snapshot,
                                           std::vector<conf::Pod> discovered_pods,
                                           lb::Clock::time_point now) {
  if (!discovered_pods.empty()) {
    // DNS pods are new objects at every build: nothing to compare with the next one, and
    // no index worth keeping.
    conf::PodList pods = snapshot.pods;  // pointers to the shared pods
    for (auto& pod : discovered_pods)
      pods.push_back(std::move(pod));
    backends_ = std::make_shared<const BackendMap>(build_backends(snapshot, pods, *backends_, now));
    built_from_.reset();
    pod_index_.reset();
    return backends_;
  }
  const KeptBackends kept = kept_backends(snapshot);
  const std::size_t to_build =
      kept.empty()
          ? snapshot.services.size()
          : static_cast<std::size_t>(std::count_if(
                kept.begin(), kept.end(), [](const auto& backends) { return backends.empty(); }));
  const std::shared_ptr<const PodIndex> index = index_for(snapshot.pods, to_build);
  backends_ =
      std::make_shared<const BackendMap>(build_backends(snapshot, *index, *backends_, now, kept));
  built_from_ = Basis{snapshot.proxy, snapshot.services, snapshot.pods};
  pod_index_ = index->indexed() ? index : nullptr;  // over the pods built_from_ now holds
  return backends_;
}

// For each Service of `snapshot`: the current Backends to keep for its routes, or empty
// when it is to be built; nothing at all when every Service is.
KeptBackends BackendBuilder::kept_backends(const conf::Snapshot& snapshot) const {
  const BackendMap& previous = *backends_;
  if (!built_from_ || previous.empty() ||
      !same_backend_settings(snapshot.proxy, built_from_->proxy))
    return {};
  const auto changed = changed_pods(built_from_->pods, snapshot.pods);
  if (!changed) return {};
  KeptBackends kept(snapshot.services.size());
  // The previous definition of a Service: at the same place in the list, as a reload that
  // changed a few Services mostly finds it, else by name (hashed on first need).
  std::unordered_map<NameKey, const conf::Service*, NameKeyHash> before;
  const auto previous_definition = [&](std::size_t i) -> const conf::Service* {
    const conf::Service& service = snapshot.services[i];
    const auto& old_services = built_from_->services;
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

// The index to select pods with. The current one (over the pods of the last build) serves
// again when those pods are the very same objects: a reload that changed a Service, not a
// Pod, neither scans 50,000 pods nor indexes them again. Otherwise a handful of Services
// scans, and more build an index, which build() keeps for the next build.
std::shared_ptr<const PodIndex> BackendBuilder::index_for(const conf::PodList& pods,
                                                          std::size_t to_build) const {
  if (pod_index_ && built_from_ && same_pod_objects(built_from_->pods, pods)) return pod_index_;
  return std::make_shared<const PodIndex>(PodIndex::for_services(pods, to_build));
}

}  // namespace svcproxy::discovery

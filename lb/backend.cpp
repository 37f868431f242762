#include "lb/backend.hpp"

#include <algorithm>

namespace svcproxy::lb {
namespace {

std::shared_ptr<AffinityTable> affinity_table_for(const BackendSettings& settings) {
  if (settings.session_affinity != conf::SessionAffinity::ClientIP) return nullptr;
  if (settings.affinity) return settings.affinity;
  return std::make_shared<AffinityTable>(settings.affinity_timeout);
}

bool excluded(const Endpoint& endpoint, const PickRequest& request) {
  return std::find(request.exclude.begin(), request.exclude.end(), &endpoint) !=
         request.exclude.end();
}

}  // namespace

Backend::Backend(BackendSettings settings, std::vector<EndpointPtr> endpoints)
    : settings_(std::move(settings)),
      endpoints_(std::move(endpoints)),
      policy_(make_policy(settings_.load_balancing)),
      affinity_(affinity_table_for(settings_)),
      outlier_detector_(settings_.outlier_detection) {
  if (!settings_.topology_zone.empty()) {
    for (const auto& endpoint : endpoints_) {
      if (in_zone(*endpoint)) zone_endpoints_.push_back(endpoint);
      if (endpoint->address().zone.empty()) unzoned_.push_back(endpoint.get());
    }
    if (!zone_endpoints_.empty()) zone_policy_ = make_policy(settings_.load_balancing);
  }
  if (!affinity_) return;
  for (std::size_t i = 0; i < endpoints_.size(); ++i)
    index_by_pod_.emplace(endpoints_[i]->address().pod_key(), i);
}

EndpointPtr Backend::pick(const PickRequest& request) const {
  if (!affinity_ || request.client_ip.empty()) return pick_balanced(request);
  return affinity_->route(
      request.client_ip, request.now,
      [&](std::string_view pod_key) { return eligible_endpoint_of_pod(pod_key, request); },
      [&] { return pick_balanced(request); });
}

std::optional<Ejection> Backend::report(Endpoint& endpoint, Outcome outcome,
                                        Clock::time_point now) const {
  return outlier_detector_.report(endpoint, outcome, now, endpoints_);
}

bool Backend::serving(const Endpoint& endpoint, const PickRequest& request) const {
  return (settings_.publish_not_ready_addresses || endpoint.ready()) &&
         !endpoint.ejected(request.now) && !excluded(endpoint, request);
}

bool Backend::in_zone(const Endpoint& endpoint) const {
  return !settings_.topology_zone.empty() && endpoint.address().zone == settings_.topology_zone;
}

// kube-proxy's topologyModeFromHints (pkg/proxy/topology.go) for the hints the EndpointSlice
// controller writes for PreferClose (trafficdist: each ready endpoint hinted for its own
// zone): traffic stays in this node's zone while every ready endpoint has a zone and one in
// this zone is ready. Evaluated at each pick, so the preference follows the probes: when
// the zone's pods all fail, the others take the traffic at once (no blackhole). Beyond
// kube-proxy, "ready" also means not ejected and not already tried by this request, so a
// retry or an ejection of the zone's last pod reaches the other zones too.
bool Backend::prefers_zone(const PickRequest& request) const {
  if (zone_endpoints_.empty()) return false;
  const PickRequest any_request{request.client_ip, request.now, {}};  // tried or not
  if (std::any_of(unzoned_.begin(), unzoned_.end(),
                  [&](const Endpoint* e) { return serving(*e, any_request) && !e->terminating(); }))
    return false;
  return std::any_of(zone_endpoints_.begin(), zone_endpoints_.end(), [&](const EndpointPtr& e) {
    return serving(*e, request) && !e->terminating();
  });
}

EndpointPtr Backend::pick_balanced(const PickRequest& request) const {
  const auto preferred = [&](const Endpoint& e) { return serving(e, request) && !e.terminating(); };
  const auto fallback = [&](const Endpoint& e) { return serving(e, request); };
  if (prefers_zone(request)) {
    const std::size_t close = zone_policy_->pick(zone_endpoints_, preferred);
    if (close != Policy::kNone) return zone_endpoints_[close];
  }
  std::size_t chosen = policy_->pick(endpoints_, preferred);
  // Kubernetes' terminating-endpoint rule: only when no other endpoint may serve.
  if (chosen == Policy::kNone) chosen = policy_->pick(endpoints_, fallback);
  // Shared ownership: the endpoint outlives a Backend replaced mid-connection.
  return chosen == Policy::kNone ? nullptr : endpoints_[chosen];
}

// Affinity holds only while the pod is as eligible as a fresh pick would require, so a
// client leaves a pod the moment it turns unready, ejected or terminating.
EndpointPtr Backend::eligible_endpoint_of_pod(std::string_view pod_key,
                                              const PickRequest& request) const {
  const auto found = index_by_pod_.find(pod_key);
  if (found == index_by_pod_.end()) return nullptr;
  const EndpointPtr& endpoint = endpoints_[found->second];
  if (!serving(*endpoint, request) || endpoint->terminating()) return nullptr;
  // Remembered from a pick in another zone (the zone had no ready pod then): while the
  // zone is preferred again, the client moves, as kube-proxy's rules hold only the zone's.
  if (!in_zone(*endpoint) && prefers_zone(request)) return nullptr;
  return endpoint;
}

}  // namespace svcproxy::lb

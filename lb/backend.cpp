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

EndpointPtr Backend::pick_balanced(const PickRequest& request) const {
  const auto preferred = [&](const Endpoint& e) { return serving(e, request) && !e.terminating(); };
  const auto fallback = [&](const Endpoint& e) { return serving(e, request); };
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
  return endpoint;
}

}  // namespace svcproxy::lb

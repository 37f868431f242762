#include "lb/backend.hpp"

#include <algorithm>

namespace svcproxy::lb {

Backend::Backend(BackendSettings settings, std::vector<EndpointPtr> endpoints)
    : settings_(std::move(settings)),
      endpoints_(std::move(endpoints)),
      policy_(make_policy(settings_.load_balancing)) {}

EndpointPtr Backend::pick(const PickRequest& request) const {
  const auto excluded = [&](const Endpoint& endpoint) {
    return std::find(request.exclude.begin(), request.exclude.end(), &endpoint) !=
           request.exclude.end();
  };
  const auto serving = [&](const Endpoint& endpoint) {
    return (settings_.publish_not_ready_addresses || endpoint.ready()) &&
           !endpoint.ejected(request.now) && !excluded(endpoint);
  };
  std::size_t chosen =
      policy_->pick(endpoints_, [&](const Endpoint& e) { return serving(e) && !e.terminating(); });
  if (chosen == Policy::kNone) chosen = policy_->pick(endpoints_, serving);
  // Shared ownership: the endpoint outlives a Backend replaced mid-connection.
  return chosen == Policy::kNone ? nullptr : endpoints_[chosen];
}

}  // namespace svcproxy::lb

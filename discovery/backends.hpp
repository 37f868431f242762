// Turns a configuration plus the current pod inventory into one lb::Backend per service
// port. Endpoints whose address did not change keep their Endpoint object, so health,
// ejection and connection counts survive a reload or a DNS refresh.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "conf/model.hpp"
#include "discovery/pod_index.hpp"
#include "discovery/service_routes.hpp"
#include "lb/backend.hpp"

namespace svcproxy::discovery {

using BackendMap = std::map<std::string, lb::BackendPtr>;  // by route_key()
// The map in force, shared by the control thread and every worker's RoutingTable rather
// than copied for each (10,000 keys).
using BackendMapPtr = std::shared_ptr<const BackendMap>;

// Endpoints of `previous` that the result no longer holds are marked terminating (and
// leave the set at once); see backends.cpp.
// A pod that left keeps its endpoint in the set, terminating, for timeouts.drain (see
// carry_over_terminating in the .cpp); `now` decides which have served their grace.
//
// `built_from`, when given, is the snapshot `previous` was built from, with that snapshot's
// pods and no others. A Service whose definition, selected pods and proxy settings did not
// change since then, and whose endpoints are none of them terminating, keeps its Backend
// objects (with their balancing state) instead of equal new ones: a reload that changes one
// of 10,000 Services rebuilds one.
//
// `pod_index_cache`, when given, is kept by the caller from one build to the next: null, or
// an index over `built_from`'s pods, which serves again when `pods` are the very same
// objects. On return it indexes `pods` (their objects must outlive it), or is null.
BackendMap build_backends(const conf::Snapshot& snapshot, const conf::PodList& pods,
                          const BackendMap& previous, lb::Clock::time_point now = lb::Clock::now(),
                          const conf::Snapshot* built_from = nullptr,
                          std::shared_ptr<const PodIndex>* pod_index_cache = nullptr);

// When the first terminating endpoint's grace ends, so the caller can rebuild then.
std::optional<lb::Clock::time_point> next_termination_end(const BackendMap& backends,
                                                          conf::Duration grace);

}  // namespace svcproxy::discovery

// Turns a configuration plus the current pod inventory into one lb::Backend per route of
// every service port. Endpoints whose address did not change keep their Endpoint object, so
// health, ejection and connection counts survive a reload or a DNS refresh.
// BackendBuilder (backend_builder.hpp) calls this build after build and decides which
// Services need building at all.
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

// Per Service of a snapshot, in its order: the Backends of all its routes to keep as they
// are, or empty when the Service is to be built.
using KeptBackends = std::vector<std::vector<lb::BackendPtr>>;

// The Backends of every route of every service port of `snapshot`: those `kept` gives as
// they are (`kept` empty: none), the others built over the pods `pods` selects from, with
// the Endpoints of `previous` under the same key reused for the same pod, address and probe.
//
// An endpoint of `previous` that a rebuilt Backend no longer selects (its pod left the
// files or DNS, or its address or probe changed) is marked terminating and stays in that
// Backend until timeouts.drain has passed since it was first marked (`now` tells); a later
// build then drops it. An endpoint whose service port or route is gone altogether has no
// Backend to stay in: it is marked terminating so that workers still picking from the
// previous Backend avoid it, and leaves with that Backend.
BackendMap build_backends(const conf::Snapshot& snapshot, const PodIndex& pods,
                          const BackendMap& previous, lb::Clock::time_point now,
                          const KeptBackends& kept);

// The same over a list of pods, with every Service built.
BackendMap build_backends(const conf::Snapshot& snapshot, const conf::PodList& pods,
                          const BackendMap& previous, lb::Clock::time_point now = lb::Clock::now());

// When the first terminating endpoint's grace ends, so the caller can rebuild then.
std::optional<lb::Clock::time_point> next_termination_end(const BackendMap& backends,
                                                          conf::Duration grace);

}  // namespace svcproxy::discovery

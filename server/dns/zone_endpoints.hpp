// The ready endpoints a headless Service's DNS names answer, from the backends the control
// thread holds: ready as the admin API's EndpointSlices say it (endpoint_status), or every
// endpoint not terminating when the Service publishes not-ready addresses. A headless
// Service without ports has no backends; its selected pods with an IP stand in, as the
// Kubernetes endpoints controller lists them. Pure; the control thread calls it.
#pragma once

#include <vector>

#include "conf/model.hpp"
#include "discovery/backends.hpp"
#include "dns/cluster_zone.hpp"

namespace svcproxy::server {

std::vector<dns::ZoneEndpoint> zone_endpoints(const conf::Service& service,
                                              const conf::Snapshot& snapshot,
                                              const discovery::BackendMap& backends,
                                              lb::Clock::time_point now);

}  // namespace svcproxy::server

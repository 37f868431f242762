// Which service ports have counters. Control thread only: the map is rebuilt on every
// apply() and published to workers inside the RoutingTable.
#pragma once

#include <cstddef>

#include "discovery/backends.hpp"
#include "server/metrics/metrics.hpp"

namespace svcproxy::server {

// One ServiceMetrics per backend; a port that stays keeps its counters (a reload does not
// reset them), a removed one is dropped (sessions still holding it finish counting into it).
ServiceMetricsMap sync_service_metrics(const ServiceMetricsMap& previous,
                                       const discovery::BackendMap& backends, std::size_t workers);

}  // namespace svcproxy::server

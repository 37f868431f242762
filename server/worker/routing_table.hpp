// What workers route by: the backends of every service port and the proxy settings in
// force. Immutable; the control thread publishes a new one on every change and each
// worker swaps its own pointer on its own thread.
#pragma once

#include <memory>
#include <string>

#include "conf/model.hpp"
#include "discovery/backends.hpp"
#include "server/metrics/metrics.hpp"
#include "server/upstream/upstream_tls.hpp"

namespace svcproxy::server {

struct RoutingTable {
  discovery::BackendMapPtr backends;  // never null
  conf::ProxySettings settings;
  ServiceMetricsMapPtr metrics;    // never null; same keys as `backends`
  UpstreamTlsMapPtr upstream_tls;  // the routes to pods over TLS; may be null (none)

  lb::BackendPtr find(const std::string& backend_key) const {
    const auto found = backends->find(backend_key);
    return found == backends->end() ? nullptr : found->second;
  }

  // The TLS to the pods of a route, or null for plain HTTP.
  std::shared_ptr<const UpstreamTls> upstream_tls_for(const std::string& backend_key) const {
    if (!upstream_tls) return nullptr;
    const auto found = upstream_tls->find(backend_key);
    return found == upstream_tls->end() ? nullptr : found->second;
  }

  // The calling worker's slot of a service port's counters; empty for an unknown key.
  StatsHandle stats_for(const std::string& backend_key, std::size_t worker) const {
    const auto found = metrics->find(backend_key);
    return found == metrics->end() ? StatsHandle{} : StatsHandle(found->second, worker);
  }
};

using RoutingTablePtr = std::shared_ptr<const RoutingTable>;

}  // namespace svcproxy::server

// The prometheus-cpp view of svcproxy: a Collectable that builds every family at scrape
// time from live state, so nothing on the data path touches prometheus-cpp. Control
// thread only (it reads control-thread maps by reference).
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <string>
#include <vector>

#include "discovery/backends.hpp"
#include "server/control/control_stats.hpp"
#include "server/metrics/metrics.hpp"

namespace svcproxy::server {

class MetricsCollector : public prometheus::Collectable {
 public:
  // The referenced objects are Proxy members and outlive the collector.
  // Reads through the pointers at each scrape: the owner replaces the maps they point to.
  MetricsCollector(const ServiceMetricsMapPtr& services, const discovery::BackendMapPtr& backends,
                   const ControlStats& control)
      : services_(services), backends_(backends), control_(control) {}

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const ServiceMetricsMapPtr& services_;
  const discovery::BackendMapPtr& backends_;
  const ControlStats& control_;
};

// Prometheus text exposition format (version 0.0.4).
std::string serialize_metrics(const prometheus::Collectable& collectable);

}  // namespace svcproxy::server

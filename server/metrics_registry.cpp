#include "server/metrics_registry.hpp"

namespace svcproxy::server {
namespace {

ServiceLabels labels_of(const lb::BackendSettings& settings) {
  return {settings.service_namespace, settings.service_name, std::to_string(settings.service_port)};
}

}  // namespace

ServiceMetricsMap sync_service_metrics(const ServiceMetricsMap& previous,
                                       const discovery::BackendMap& backends, std::size_t workers) {
  ServiceMetricsMap current;
  for (const auto& [key, backend] : backends) {
    const auto kept = previous.find(key);
    current[key] = kept != previous.end()
                       ? kept->second
                       : std::make_shared<ServiceMetrics>(labels_of(backend->settings()), workers);
  }
  return current;
}

}  // namespace svcproxy::server

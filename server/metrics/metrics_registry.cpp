#include "server/metrics/metrics_registry.hpp"

namespace svcproxy::server {
namespace {

ServiceLabels labels_of(const lb::BackendSettings& settings) {
  return {settings.service_namespace, settings.service_name, std::to_string(settings.service_port)};
}

}  // namespace

ServiceMetricsMap sync_service_metrics(const ServiceMetricsMap& previous,
                                       const discovery::BackendMap& backends, std::size_t workers) {
  // Both maps are in key order: one walk, and each key goes in at the end without a search.
  ServiceMetricsMap current;
  auto kept = previous.begin();
  for (const auto& [key, backend] : backends) {
    while (kept != previous.end() && kept->first < key)
      ++kept;
    current.emplace_hint(
        current.end(), key,
        kept != previous.end() && kept->first == key
            ? kept->second
            : std::make_shared<ServiceMetrics>(labels_of(backend->settings()), workers));
  }
  return current;
}

}  // namespace svcproxy::server

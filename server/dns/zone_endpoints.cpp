#include "server/dns/zone_endpoints.hpp"

#include <algorithm>

#include "discovery/service_routes.hpp"
#include "server/admin/endpoint_status.hpp"

namespace svcproxy::server {
namespace {

dns::ZoneEndpoint& endpoint_for(std::vector<dns::ZoneEndpoint>& endpoints, const std::string& ip) {
  const auto found =
      std::find_if(endpoints.begin(), endpoints.end(),
                   [&](const dns::ZoneEndpoint& endpoint) { return endpoint.ip == ip; });
  if (found != endpoints.end()) return *found;
  return endpoints.emplace_back(dns::ZoneEndpoint{ip, {}, {}});
}

}  // namespace

std::vector<dns::ZoneEndpoint> zone_endpoints(const conf::Service& service,
                                              const conf::Snapshot& snapshot,
                                              const discovery::BackendMap& backends,
                                              lb::Clock::time_point now) {
  std::vector<dns::ZoneEndpoint> endpoints;
  if (service.ports.empty()) {
    if (service.selector.empty()) return endpoints;
    for (const auto& pod : snapshot.pods)
      if (pod.namespace_name == service.namespace_name && !pod.pod_ip.empty() &&
          !pod.terminated() && conf::labels_contain(pod.labels, service.selector))
        endpoint_for(endpoints, pod.pod_ip);
    return endpoints;
  }
  for (const auto& port : service.ports) {
    const auto found = backends.find(discovery::service_port_key(service, port));
    if (found == backends.end()) continue;
    for (const auto& endpoint : found->second->endpoints()) {
      const EndpointStatus status = endpoint_status(*endpoint, now);
      const bool listed =
          status.ready || (service.publish_not_ready_addresses && !status.terminating);
      if (!listed) continue;
      endpoint_for(endpoints, endpoint->address().ip)
          .ports.emplace_back(port.name, endpoint->address().port);
    }
  }
  return endpoints;
}

}  // namespace svcproxy::server

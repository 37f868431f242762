#include "discovery/service_endpoints.hpp"

#include <algorithm>

namespace svcproxy::discovery {
namespace {

// A container port's number by name (and protocol, when given: a Service port's named
// targetPort matches both, as Kubernetes' FindPort), or 0 when the pod has no such port.
int find_named_port(const conf::Pod& pod, const std::string& name, std::string_view protocol = {}) {
  for (const auto& container : pod.containers)
    for (const auto& port : container.ports)
      if (port.name == name && (protocol.empty() || port.protocol == protocol))
        return port.container_port;
  return 0;
}

// The probe of the container that serves the target port, else the first one declared.
std::optional<conf::Probe> readiness_probe_for(const conf::Pod& pod, int target_port) {
  const conf::Container* chosen = nullptr;
  for (const auto& container : pod.containers) {
    if (!container.readiness_probe) continue;
    const bool serves = std::any_of(container.ports.begin(), container.ports.end(),
                                    [&](const auto& p) { return p.container_port == target_port; });
    if (serves || !chosen) chosen = &container;
    if (serves) break;
  }
  if (!chosen) return std::nullopt;
  conf::Probe probe = *chosen->readiness_probe;
  if (probe.port.is_named()) {
    probe.port.number = find_named_port(pod, probe.port.name);
    if (probe.port.number == 0) return std::nullopt;  // conf rejects such probes
  }
  return probe;
}

}  // namespace

std::vector<lb::EndpointAddress> select_endpoints(const conf::Service& service,
                                                  const conf::ServicePort& port,
                                                  const std::vector<conf::Pod>& pods) {
  return select_endpoints(service, port, PodIndex(pods));
}

std::vector<lb::EndpointAddress> select_endpoints(const conf::Service& service,
                                                  const conf::ServicePort& port,
                                                  const conf::PodList& pods) {
  return select_endpoints(service, port, PodIndex(pods));
}

std::vector<lb::EndpointAddress> select_endpoints(const conf::Service& service,
                                                  const conf::ServicePort& port,
                                                  const PodIndex& pods) {
  std::vector<lb::EndpointAddress> selected;
  for (const conf::Pod* candidate : pods.select(service.namespace_name, service.selector)) {
    const conf::Pod& pod = *candidate;
    if (pod.pod_ip.empty() || pod.terminated()) continue;
    const int target = port.target_port.is_named()
                           ? find_named_port(pod, port.target_port.name, to_string(port.transport))
                           : port.target_port.number;
    if (target == 0) continue;
    selected.push_back({pod.namespace_name, pod.name, pod.pod_ip, target, pod.node_name,
                        readiness_probe_for(pod, target)});
  }
  std::sort(selected.begin(), selected.end(),
            [](const auto& a, const auto& b) { return a.pod_name < b.pod_name; });
  return selected;
}

}  // namespace svcproxy::discovery

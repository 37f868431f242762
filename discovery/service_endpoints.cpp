#include "discovery/service_endpoints.hpp"

#include <algorithm>

namespace svcproxy::discovery {
namespace {

bool selects(const conf::Labels& selector, const conf::Labels& labels) {
  if (selector.empty()) return false;
  return std::all_of(selector.begin(), selector.end(), [&](const auto& pair) {
    auto found = labels.find(pair.first);
    return found != labels.end() && found->second == pair.second;
  });
}

// A container port's number by name, or 0 when the pod declares no such port.
int find_named_port(const conf::Pod& pod, const std::string& name) {
  for (const auto& container : pod.containers)
    for (const auto& port : container.ports)
      if (port.name == name) return port.container_port;
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
  std::vector<lb::EndpointAddress> selected;
  for (const auto& pod : pods) {
    if (pod.namespace_name != service.namespace_name || pod.pod_ip.empty()) continue;
    if (!selects(service.selector, pod.labels)) continue;
    const int target = port.target_port.is_named() ? find_named_port(pod, port.target_port.name)
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

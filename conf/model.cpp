#include "conf/model.hpp"

#include <algorithm>

namespace svcproxy::conf {

const char* to_string(ServiceType type) {
  switch (type) {
    case ServiceType::ClusterIP:
      return "ClusterIP";
    case ServiceType::NodePort:
      return "NodePort";
    case ServiceType::LoadBalancer:
      return "LoadBalancer";
    case ServiceType::ExternalName:
      return "ExternalName";
  }
  return "?";
}

const char* to_string(AppProtocol protocol) {
  return protocol == AppProtocol::Http ? "http" : "tcp";
}

const char* to_string(Transport transport) {
  return transport == Transport::Udp ? "UDP" : "TCP";
}

const char* to_string(LoadBalancing policy) {
  return policy == LoadBalancing::LeastConnections ? "least-connections" : "round-robin";
}

const char* to_string(SessionAffinity affinity) {
  return affinity == SessionAffinity::ClientIP ? "ClientIP" : "None";
}

bool labels_contain(const Labels& labels, const Labels& selector) {
  for (const auto& [key, value] : selector) {
    const auto found = labels.find(key);
    if (found == labels.end() || found->second != value) return false;
  }
  return true;
}

const std::string& zone_of_node(const ProxySettings& proxy, std::string_view node_name) {
  static const std::string kNone;
  if (node_name.empty()) return kNone;
  if (node_name == proxy.node_name) return proxy.zone;
  for (const auto& node : proxy.nodes)
    if (node.name == node_name) return node.zone;
  return kNone;
}

bool forwards_to_nodes(const ProxySettings& proxy) {
  return std::any_of(proxy.nodes.begin(), proxy.nodes.end(),
                     [](const NodeRef& node) { return !node.address.empty(); });
}

const char* to_string(TrafficPolicy policy) {
  return policy == TrafficPolicy::Local ? "Local" : "Cluster";
}

const char* to_string(IpFamily family) {
  return family == IpFamily::IPv6 ? "IPv6" : "IPv4";
}

const char* to_string(IpFamilyPolicy policy) {
  switch (policy) {
    case IpFamilyPolicy::SingleStack:
      return "SingleStack";
    case IpFamilyPolicy::PreferDualStack:
      return "PreferDualStack";
    case IpFamilyPolicy::RequireDualStack:
      return "RequireDualStack";
  }
  return "?";
}

}  // namespace svcproxy::conf

#include "server/control/listen_plan.hpp"

#include <algorithm>

#include "discovery/service_routes.hpp"

namespace svcproxy::server {

std::string ListenAddress::to_string() const {
  const bool v6 = ip.find(':') != std::string::npos;
  std::string text = v6 ? "[" + ip + "]" : ip;
  text += ':';
  text += std::to_string(port);
  if (udp) text += "/udp";
  return text;
}

const char* to_string(ListenerRole role) {
  switch (role) {
    case ListenerRole::ClusterIP:
      return "ClusterIP";
    case ListenerRole::NodePort:
      return "NodePort";
    case ListenerRole::LoadBalancer:
      return "LoadBalancer";
  }
  return "?";
}

namespace {

void add_port_listeners(const conf::Service& service, const conf::ServicePort& port,
                        const conf::ProxySettings& proxy, std::vector<ListenerSpec>& plan) {
  const auto add = [&](const std::string& ip, int listen_port, ListenerRole role) {
    const auto route =
        role == ListenerRole::ClusterIP
            ? discovery::internal_route(service)
            : discovery::external_route(service, proxy, role == ListenerRole::LoadBalancer);
    plan.push_back({{ip, listen_port, port.transport == conf::Transport::Udp},
                    discovery::route_key(service, port, route),
                    port.app_protocol,
                    role,
                    port.tls ? service.key() + ":" + std::to_string(port.port) : std::string()});
  };
  // Each ClusterIP of a dual-stack Service, the same way (listen_socket.cpp sets freebind:
  // an IPv6 one needs only a local route, no address on an interface).
  if (!service.headless)
    for (const std::string* ip : {&service.cluster_ip, &service.secondary_cluster_ip})
      if (!ip->empty()) add(*ip, port.port, ListenerRole::ClusterIP);
  if (!conf::has_node_ports(service)) return;
  if (port.node_port != 0)
    for (const auto& ip : proxy.node_port_addresses)
      add(ip, port.node_port, ListenerRole::NodePort);
  if (service.type != conf::ServiceType::LoadBalancer) return;
  const auto& lb_ips =
      service.load_balancer_ips.empty() ? proxy.node_port_addresses : service.load_balancer_ips;
  for (const auto& ip : lb_ips)
    add(ip, port.port, ListenerRole::LoadBalancer);
}

}  // namespace

std::vector<ListenerSpec> plan_listeners(const conf::Snapshot& snapshot) {
  std::vector<ListenerSpec> plan;
  for (const auto& service : snapshot.services)
    for (const auto& port : service.ports)
      add_port_listeners(service, port, snapshot.proxy, plan);
  std::stable_sort(plan.begin(), plan.end(),
                   [](const auto& a, const auto& b) { return a.address < b.address; });
  return plan;
}

}  // namespace svcproxy::server

namespace svcproxy::server {

std::vector<std::string> find_listener_conflicts(const std::vector<ListenerSpec>& plan) {
  std::vector<std::string> conflicts;
  for (std::size_t i = 1; i < plan.size(); ++i) {
    const auto& previous = plan[i - 1];
    const auto& current = plan[i];
    if (previous.address == current.address && previous.backend_key != current.backend_key)
      conflicts.push_back(current.address.to_string() + " is claimed by both " +
                          previous.backend_key + " (" + to_string(previous.role) + ") and " +
                          current.backend_key + " (" + to_string(current.role) + ")");
  }
  return conflicts;
}

}  // namespace svcproxy::server

#include "server/admin/kube_json.hpp"

#include <boost/json/array.hpp>

#include "server/admin/endpoint_status.hpp"

namespace svcproxy::server {
namespace json = boost::json;

namespace {

json::object metadata(const std::string& name, const std::string& namespace_name) {
  return {{"name", name}, {"namespace", namespace_name}};
}

json::object labels_json(const conf::Labels& labels) {
  json::object out;
  for (const auto& [key, value] : labels)
    out[key] = value;
  return out;
}

json::object port_json(const conf::ServicePort& port) {
  json::object out{{"name", port.name}, {"protocol", "TCP"}, {"port", port.port}};
  if (port.target_port.is_named())
    out["targetPort"] = port.target_port.name;
  else
    out["targetPort"] = port.target_port.number;
  if (port.node_port != 0) out["nodePort"] = port.node_port;
  out["appProtocol"] = conf::to_string(port.app_protocol);
  return out;
}

json::object load_balancer_status(const conf::Service& service, const conf::ProxySettings& proxy) {
  json::array ingress;
  if (service.type == conf::ServiceType::LoadBalancer) {
    const auto& ips =
        service.load_balancer_ips.empty() ? proxy.node_port_addresses : service.load_balancer_ips;
    for (const auto& ip : ips)
      ingress.push_back(json::object{{"ip", ip}});
  }
  json::object balancer;
  if (!ingress.empty()) balancer["ingress"] = std::move(ingress);
  return {{"loadBalancer", std::move(balancer)}};
}

json::object service_spec(const conf::Service& service) {
  const std::string cluster_ip = service.headless ? "None" : service.cluster_ip;
  json::array ports;
  for (const auto& port : service.ports)
    ports.push_back(port_json(port));
  json::object spec{{"type", conf::to_string(service.type)},
                    {"clusterIP", cluster_ip},
                    {"clusterIPs", json::array{json::value(cluster_ip)}},
                    {"selector", labels_json(service.selector)},
                    {"ports", std::move(ports)},
                    {"sessionAffinity", conf::to_string(service.session_affinity)}};
  if (service.session_affinity == conf::SessionAffinity::ClientIP)
    spec["sessionAffinityConfig"] = {
        {"clientIP", {{"timeoutSeconds", service.affinity_timeout.count() / 1000}}}};
  if (service.type != conf::ServiceType::ClusterIP)
    spec["externalTrafficPolicy"] = conf::to_string(service.external_traffic_policy);
  return spec;
}

json::object address_json(const lb::Endpoint& endpoint, lb::Clock::time_point now) {
  const auto& address = endpoint.address();
  const EndpointStatus status = endpoint_status(endpoint, now);
  json::object out{
      {"ip", address.ip},
      {"targetRef",
       {{"kind", "Pod"}, {"name", address.pod_name}, {"namespace", address.pod_namespace}}},
      {"conditions",
       {{"ready", status.ready},
        {"serving", status.serving},
        {"terminating", status.terminating}}}};
  if (!address.node_name.empty()) out["nodeName"] = address.node_name;
  json::object extra{{"state", to_string(status.state)}, {"activeConnections", endpoint.active()}};
  if (!status.reason.empty()) extra["reason"] = status.reason;
  out["svcproxy"] = std::move(extra);
  return out;
}

// One subset per target port: pods selected through a named targetPort may listen on
// different numbers, and an Endpoints subset has one port list for all its addresses.
void add_subsets(const conf::ServicePort& port, const lb::Backend& backend,
                 lb::Clock::time_point now, json::array& subsets) {
  std::map<int, std::pair<json::array, json::array>> by_port;  // ready, not ready
  for (const auto& endpoint : backend.endpoints()) {
    auto& [ready, not_ready] = by_port[endpoint->address().port];
    const bool takes_traffic = endpoint_status(*endpoint, now).ready;
    (takes_traffic ? ready : not_ready).push_back(address_json(*endpoint, now));
  }
  for (auto& [number, addresses] : by_port) {
    json::object subset;
    if (!addresses.first.empty()) subset["addresses"] = std::move(addresses.first);
    if (!addresses.second.empty()) subset["notReadyAddresses"] = std::move(addresses.second);
    subset["ports"] =
        json::array{json::object{{"name", port.name}, {"port", number}, {"protocol", "TCP"}}};
    subsets.push_back(std::move(subset));
  }
}

}  // namespace

json::object service_json(const conf::Service& service, const conf::ProxySettings& proxy) {
  json::object meta = metadata(service.name, service.namespace_name);
  meta["annotations"] = labels_json(service.annotations);
  return {{"kind", "Service"},
          {"apiVersion", "v1"},
          {"metadata", std::move(meta)},
          {"spec", service_spec(service)},
          {"status", load_balancer_status(service, proxy)}};
}

json::object endpoints_json(const conf::Service& service, const discovery::BackendMap& backends,
                            lb::Clock::time_point now) {
  json::array subsets;
  for (const auto& port : service.ports) {
    const auto found = backends.find(discovery::service_port_key(service, port));
    if (found != backends.end()) add_subsets(port, *found->second, now, subsets);
  }
  return {{"kind", "Endpoints"},
          {"apiVersion", "v1"},
          {"metadata", metadata(service.name, service.namespace_name)},
          {"subsets", std::move(subsets)}};
}

}  // namespace svcproxy::server

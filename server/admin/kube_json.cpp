#include "server/admin/kube_json.hpp"

#include <boost/json/array.hpp>

#include "conf/ip_families.hpp"
#include "server/admin/endpoint_status.hpp"

namespace svcproxy::server {
namespace json = boost::json;

namespace {

json::object labels_json(const conf::Labels& labels) {
  json::object out;
  for (const auto& [key, value] : labels)
    out[key] = value;
  return out;
}

json::object metadata(const std::string& name, const std::string& namespace_name) {
  return {{"name", name}, {"namespace", namespace_name}};
}

json::object metadata(const std::string& name, const std::string& namespace_name,
                      const conf::Labels& labels, const conf::CreationTime& created) {
  json::object out = metadata(name, namespace_name);
  if (!labels.empty()) out["labels"] = labels_json(labels);
  if (!created.rfc3339.empty()) out["creationTimestamp"] = created.rfc3339;
  return out;
}

json::object ready_condition(bool ready) {
  return {{"type", "Ready"}, {"status", ready ? "True" : "False"}};
}

json::array containers_json(const std::vector<conf::Container>& containers) {
  json::array out;
  for (const auto& container : containers) {
    json::array ports;
    for (const auto& port : container.ports) {
      json::object item{{"containerPort", port.container_port}, {"protocol", port.protocol}};
      if (!port.name.empty()) item["name"] = port.name;
      ports.push_back(std::move(item));
    }
    json::object item{{"name", container.name}};
    if (!ports.empty()) item["ports"] = std::move(ports);
    out.push_back(std::move(item));
  }
  return out;
}

json::object port_json(const conf::ServicePort& port) {
  json::object out{
      {"name", port.name}, {"protocol", conf::to_string(port.transport)}, {"port", port.port}};
  if (port.target_port.is_named())
    out["targetPort"] = port.target_port.name;
  else
    out["targetPort"] = port.target_port.number;
  if (port.node_port != 0) out["nodePort"] = port.node_port;
  if (!port.app_protocol_name.empty()) out["appProtocol"] = port.app_protocol_name;
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

// spec.clusterIPs, ipFamilies and ipFamilyPolicy as kube-apiserver stores them: defaulted
// for this cluster's serviceCIDR.
void add_ip_family_fields(const conf::Service& service, const conf::ProxySettings& proxy,
                          json::object& spec) {
  json::array ips;
  for (const auto& ip : conf::cluster_ips(service))
    ips.emplace_back(ip);
  spec["clusterIPs"] = std::move(ips);
  const auto cidr = conf::parse_service_cidr(proxy.service_cidr);
  const auto* ranges = std::get_if<conf::ServiceCidr>(&cidr);
  if (!ranges) return;
  const conf::IpFamilyFields fields = conf::ip_family_fields(service, *ranges, nullptr);
  json::array families;
  for (const auto family : fields.families)
    families.emplace_back(conf::to_string(family));
  spec["ipFamilies"] = std::move(families);
  spec["ipFamilyPolicy"] = conf::to_string(fields.policy);
}

json::object service_spec(const conf::Service& service, const conf::ProxySettings& proxy) {
  json::array ports;
  for (const auto& port : service.ports)
    ports.push_back(port_json(port));
  if (service.type == conf::ServiceType::ExternalName)
    return {{"type", "ExternalName"},
            {"externalName", service.external_name},
            {"ports", std::move(ports)},
            {"sessionAffinity", "None"}};
  const std::string cluster_ip = service.headless ? "None" : service.cluster_ip;
  json::object spec{{"type", conf::to_string(service.type)},
                    {"clusterIP", cluster_ip},
                    {"selector", labels_json(service.selector)},
                    {"ports", std::move(ports)},
                    {"sessionAffinity", conf::to_string(service.session_affinity)}};
  add_ip_family_fields(service, proxy, spec);
  if (service.session_affinity == conf::SessionAffinity::ClientIP)
    spec["sessionAffinityConfig"] = {
        {"clientIP", {{"timeoutSeconds", service.affinity_timeout.count() / 1000}}}};
  if (conf::has_node_ports(service))
    spec["externalTrafficPolicy"] = conf::to_string(service.external_traffic_policy);
  if (service.health_check_node_port != 0)
    spec["healthCheckNodePort"] = service.health_check_node_port;
  if (service.prefer_close) spec["trafficDistribution"] = "PreferClose";
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
    subset["ports"] = json::array{json::object{
        {"name", port.name}, {"port", number}, {"protocol", conf::to_string(port.transport)}}};
    subsets.push_back(std::move(subset));
  }
}

}  // namespace

json::object service_json(const conf::Service& service, const conf::ProxySettings& proxy) {
  json::object meta =
      metadata(service.name, service.namespace_name, service.labels, service.created);
  meta["annotations"] = labels_json(service.annotations);
  return {{"kind", "Service"},
          {"apiVersion", "v1"},
          {"metadata", std::move(meta)},
          {"spec", service_spec(service, proxy)},
          {"status", load_balancer_status(service, proxy)}};
}

json::object endpoints_json(const conf::Service& service, const discovery::BackendMap& backends,
                            lb::Clock::time_point now) {
  json::array subsets;
  for (const auto& port : service.ports) {
    const auto found = backends.find(discovery::service_port_key(service, port));
    if (found != backends.end()) add_subsets(port, *found->second, now, subsets);
  }
  return {
      {"kind", "Endpoints"},
      {"apiVersion", "v1"},
      {"metadata", metadata(service.name, service.namespace_name, service.labels, service.created)},
      {"subsets", std::move(subsets)}};
}

std::string string_at(const json::object& object, std::string_view section, std::string_view key) {
  const auto* inner = object.if_contains(section);
  if (!inner || !inner->is_object()) return {};
  const auto* value = inner->as_object().if_contains(key);
  return value && value->is_string() ? std::string(value->as_string()) : std::string();
}

std::map<std::string, bool> pod_readiness(const discovery::BackendMap& backends,
                                          lb::Clock::time_point now) {
  std::map<std::string, bool> ready;
  for (const auto& [key, backend] : backends)
    for (const auto& endpoint : backend->endpoints()) {
      const auto& address = endpoint->address();
      if (address.pod_namespace.empty()) continue;  // an edge's node, not a pod
      ready[address.pod_key()] |= endpoint_status(*endpoint, now).ready;
    }
  return ready;
}

json::object pod_json(const conf::Pod& pod, std::optional<bool> ready) {
  json::object spec{{"containers", containers_json(pod.containers)}};
  if (!pod.node_name.empty()) spec["nodeName"] = pod.node_name;
  // A terminated pod is never Ready; one without a phase is Running, as svcproxy treats it.
  json::object status{
      {"phase", pod.phase.empty() ? "Running" : pod.phase},
      {"conditions", json::array{ready_condition(!pod.terminated() && ready.value_or(true))}}};
  if (!pod.pod_ip.empty()) {
    status["podIP"] = pod.pod_ip;
    status["podIPs"] = json::array{json::object{{"ip", pod.pod_ip}}};
  }
  json::object meta = metadata(pod.name, pod.namespace_name, pod.labels, pod.created);
  if (!pod.annotations.empty()) meta["annotations"] = labels_json(pod.annotations);
  return {{"kind", "Pod"},
          {"apiVersion", "v1"},
          {"metadata", std::move(meta)},
          {"spec", std::move(spec)},
          {"status", std::move(status)}};
}

json::object deployment_json(const conf::Deployment& deployment, int pods, int ready) {
  json::object meta =
      metadata(deployment.name, deployment.namespace_name, deployment.labels, deployment.created);
  if (!deployment.annotations.empty()) meta["annotations"] = labels_json(deployment.annotations);
  return {{"kind", "Deployment"},
          {"apiVersion", "apps/v1"},
          {"metadata", std::move(meta)},
          {"spec",
           {{"replicas", deployment.replicas},
            {"selector", {{"matchLabels", labels_json(deployment.match_labels)}}},
            {"template",
             {{"metadata", {{"labels", labels_json(deployment.template_labels)}}},
              {"spec", {{"containers", containers_json(deployment.containers)}}}}}}},
          {"status",
           {{"replicas", pods},
            {"updatedReplicas", pods},
            {"readyReplicas", ready},
            {"availableReplicas", ready}}}};
}

json::object node_json(const conf::NodeRef& node) {
  json::object status{{"conditions", json::array{ready_condition(true)}},
                      {"nodeInfo", {{"kubeProxyVersion", "svcproxy-" SVCPROXY_VERSION}}}};
  if (!node.address.empty())
    status["addresses"] =
        json::array{json::object{{"type", "InternalIP"}, {"address", node.address}}};
  json::object meta{{"name", node.name}};
  if (!node.zone.empty()) meta["labels"] = {{conf::kZoneLabel, node.zone}};
  return {{"kind", "Node"},
          {"apiVersion", "v1"},
          {"metadata", std::move(meta)},
          {"status", std::move(status)}};
}

json::object namespace_json(const std::string& name) {
  return {{"kind", "Namespace"},
          {"apiVersion", "v1"},
          {"metadata", {{"name", name}}},
          {"status", {{"phase", "Active"}}}};
}

std::vector<json::object> endpoint_slices_json(const conf::Service& service,
                                               const discovery::BackendMap& backends,
                                               lb::Clock::time_point now) {
  std::vector<json::object> slices;
  for (const auto& port : service.ports) {
    const auto found = backends.find(discovery::service_port_key(service, port));
    if (found == backends.end()) continue;
    // Slices hold one address family each, as Kubernetes' (addressType IPv4 or IPv6).
    std::map<std::pair<int, bool>, json::array> by_port;  // (target port, IPv6)
    for (const auto& endpoint : found->second->endpoints()) {
      const auto& address = endpoint->address();
      const EndpointStatus status = endpoint_status(*endpoint, now);
      json::object item{
          {"addresses", json::array{json::value(address.ip)}},
          {"conditions",
           {{"ready", status.ready},
            {"serving", status.serving},
            {"terminating", status.terminating}}},
          {"targetRef",
           {{"kind", "Pod"}, {"name", address.pod_name}, {"namespace", address.pod_namespace}}}};
      if (!address.node_name.empty()) item["nodeName"] = address.node_name;
      if (!address.zone.empty()) item["zone"] = address.zone;
      // The EndpointSlice controller's PreferClose hints (trafficdist's preferCloseHeuristic):
      // each ready endpoint with a zone is hinted for its own zone.
      if (service.prefer_close && status.ready && !address.zone.empty())
        item["hints"] = {{"forZones", json::array{json::object{{"name", address.zone}}}}};
      const bool v6 = address.ip.find(':') != std::string::npos;
      by_port[{address.port, v6}].push_back(std::move(item));
    }
    const std::string base =
        service.name + "-" + (port.name.empty() ? std::to_string(port.port) : port.name);
    for (auto& [group, endpoints] : by_port) {
      const auto [number, v6] = group;
      std::string name = base;
      if (by_port.size() > 1) {
        name += "-";
        name += std::to_string(number);
        if (v6) name += "-ipv6";
      }
      json::object meta = metadata(name, service.namespace_name);
      meta["labels"] = {{"kubernetes.io/service-name", service.name},
                        {"endpointslice.kubernetes.io/managed-by", "svcproxy.io"}};
      if (!service.created.rfc3339.empty()) meta["creationTimestamp"] = service.created.rfc3339;
      json::object slice_port{{"port", number}, {"protocol", conf::to_string(port.transport)}};
      if (!port.name.empty()) slice_port["name"] = port.name;
      slices.push_back({{"kind", "EndpointSlice"},
                        {"apiVersion", "discovery.k8s.io/v1"},
                        {"metadata", std::move(meta)},
                        {"addressType", v6 ? "IPv6" : "IPv4"},
                        {"endpoints", std::move(endpoints)},
                        {"ports", json::array{std::move(slice_port)}}});
    }
  }
  return slices;
}

}  // namespace svcproxy::server

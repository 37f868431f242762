// v1 Service: type, selector, clusterIP, ports, affinity, traffic policy, LoadBalancer IPs.
#include <algorithm>
#include <map>

#include "conf/addresses.hpp"
#include "conf/names.hpp"
#include "conf/parsers.hpp"

namespace svcproxy::conf {
namespace {

const std::string load_balancing_annotation = "svcproxy.io/load-balancing";
const std::string tls_secret_annotation = "svcproxy.io/tls-secret";
const std::string tls_ports_annotation = "svcproxy.io/tls-ports";
const std::string tls_strict_sni_annotation = "svcproxy.io/tls-strict-sni";
const std::string backend_protocol_annotation = "svcproxy.io/backend-protocol";
const std::string backend_ca_annotation = "svcproxy.io/backend-ca-secret";
const std::string backend_hostname_annotation = "svcproxy.io/backend-tls-hostname";

// "a, b,c" -> {"a", "b", "c"}; empty items are kept (as "") so they can be reported.
std::vector<std::string> comma_list(const std::string& text) {
  std::vector<std::string> items;
  std::size_t start = 0;
  for (;;) {
    const auto comma = text.find(',', start);
    std::string item = text.substr(start, comma == std::string::npos ? comma : comma - start);
    const auto first = item.find_first_not_of(' ');
    const auto last = item.find_last_not_of(' ');
    items.push_back(first == std::string::npos ? "" : item.substr(first, last - first + 1));
    if (comma == std::string::npos) return items;
    start = comma + 1;
  }
}

// TLS at the edge, turned on by annotations as cloud load balancers do: which Secrets, on
// which ports (numbers or names; every port when not given).
void parse_tls_annotations(YamlReader& reader, const Field& annotations, Service& service) {
  const Field secrets = annotations.child(tls_secret_annotation);
  const Field ports = annotations.child(tls_ports_annotation);
  const Field strict = annotations.child(tls_strict_sni_annotation);
  if (auto text = reader.string(secrets)) {
    for (const auto& name : comma_list(*text)) {
      if (is_dns1123_subdomain(name))
        service.tls_secrets.push_back(name);
      else
        reader.error(secrets, "\"" + name +
                                  "\" is not a Secret name (a list like \"web-tls\" or "
                                  "\"web-tls,api-tls\")");
    }
    service.tls_location = reader.location(secrets);
  }
  if (auto text = reader.string(strict)) {
    if (*text == "true" || *text == "false")
      service.tls_strict_sni = *text == "true";
    else
      reader.error(strict, "must be \"true\" or \"false\"");
  }
  if (service.tls_secrets.empty()) {
    if (ports.present())
      reader.error(ports, tls_ports_annotation + " needs " + tls_secret_annotation);
    return;
  }
  std::vector<std::string> wanted = {};
  if (auto text = reader.string(ports)) wanted = comma_list(*text);
  for (const auto& item : wanted) {
    const auto matches = [&](const ServicePort& port) {
      return port.name == item || std::to_string(port.port) == item;
    };
    const auto found = std::find_if(service.ports.begin(), service.ports.end(), matches);
    if (found == service.ports.end()) {
      reader.error(ports, "\"" + item +
                              "\" is neither the number nor the name of a port of this "
                              "Service");
      continue;
    }
    for (auto& port : service.ports) {
      if (!matches(port)) continue;
      if (port.transport == Transport::Udp)
        reader.error(ports, "\"" + item + "\" is a UDP port: svcproxy terminates TLS on TCP ports");
      else
        port.tls = true;
    }
  }
  if (!ports.present())
    for (auto& port : service.ports)
      port.tls = port.transport == Transport::Tcp;  // "every port": every TCP port
}

// TLS to the pods, as cloud load balancers' backend-protocol annotation turns it on (or a
// port's appProtocol https), verified as Gateway API's BackendTLSPolicy does: a CA and a
// hostname, never "trust anything".
void parse_backend_tls_annotations(YamlReader& reader, const Field& annotations, const Field& ports,
                                   Service& service) {
  const Field protocol = annotations.child(backend_protocol_annotation);
  const Field ca = annotations.child(backend_ca_annotation);
  const Field hostname = annotations.child(backend_hostname_annotation);
  if (auto index =
          parse_choice(reader, protocol, backend_protocol_annotation.c_str(), {"http", "https"})) {
    if (*index == 1) {
      for (std::size_t i = 0; i < service.ports.size(); ++i) {
        ServicePort& port = service.ports[i];
        if (ports.item(i).child("appProtocol").present() &&
            port.app_protocol != AppProtocol::Http) {
          reader.error(ports.item(i).child("appProtocol"),
                       "appProtocol " + port.app_protocol_name + " conflicts with " +
                           backend_protocol_annotation +
                           ": https (HTTP over TLS to the pods; TLS to pods on an L4 port is "
                           "not supported)");
          continue;
        }
        port.app_protocol = AppProtocol::Http;
        port.backend_tls = true;
      }
    }
  }
  const bool any = std::any_of(service.ports.begin(), service.ports.end(),
                               [](const ServicePort& port) { return port.backend_tls; });
  if (auto name = reader.string(ca)) {
    if (is_dns1123_subdomain(*name))
      service.backend_tls.ca_secret = *name;
    else
      reader.error(ca, "\"" + *name + "\" is not a Secret name");
  }
  if (auto name = reader.string(hostname)) {
    if (is_dns1123_subdomain(*name))
      service.backend_tls.hostname = *name;
    else
      reader.error(hostname,
                   "\"" + *name + "\" is not a DNS hostname (lowercase, like web.internal)");
  }
  if (!any) {
    for (const Field& unused : {ca, hostname})
      if (unused.present())
        reader.error(unused, "needs " + backend_protocol_annotation +
                                 ": https (or a port with appProtocol: https)");
    return;
  }
  service.backend_tls.location = reader.location(protocol.present()      ? protocol
                                                 : annotations.present() ? annotations
                                                                         : ports);
  if (!hostname.present())
    reader.error(protocol.present() ? protocol : ports,
                 "TLS to the pods needs " + backend_hostname_annotation +
                     ": the name their certificate is for (verification is never off)");
}

struct ParsedPort {
  ServicePort port;
  std::string protocol = "TCP";
};

// TCP and UDP (validateServicePort names SCTP too, which svcproxy does not carry).
void parse_protocol(YamlReader& reader, const Field& field, ParsedPort& parsed) {
  auto protocol = reader.string(field);
  if (!protocol) return;
  parsed.protocol = *protocol;
  if (*protocol == "UDP") {
    parsed.port.transport = Transport::Udp;
  } else if (*protocol == "SCTP") {
    reader.error(field, "Unsupported value: \"SCTP\": svcproxy carries \"TCP\" and \"UDP\"");
  } else if (*protocol != "TCP") {
    reader.error(field, "Unsupported value: \"" + *protocol +
                            "\": supported values: \"SCTP\", \"TCP\", \"UDP\"");
  }
}

// targetPort 0 or "" is the port itself (Kubernetes' SetDefaults_Service), as is none.
bool defaults_to_port(const Field& target) {
  if (!target.present() || !target.node.is_scalar()) return !target.present();
  const std::string& text = target.node.scalar();
  return target.node.is_quoted() ? text.empty() : text == "0";
}

// Any appProtocol Kubernetes takes (a qualified name: IANA names, kubernetes.io/h2c,
// example.com/proto). http and kubernetes.io/ws (an HTTP/1.1 upgrade) are proxied at L7,
// https too with TLS to the pods; tcp is L4; anything else is relayed at L4, with a warning
// saying so.
void parse_app_protocol(YamlReader& reader, const Field& field, ServicePort& port) {
  auto name = reader.string(field);
  if (!name) return;
  const std::vector<std::string> problems = qualified_name_errors(*name);
  for (const std::string& problem : problems)
    reader.error(field, "Invalid value: \"" + *name + "\": " + problem);
  if (!problems.empty()) return;
  port.app_protocol_name = *name;
  const std::string lower = lowercase(*name);
  if (lower == "http" || lower == "https" || lower == "kubernetes.io/ws") {
    port.app_protocol = AppProtocol::Http;
    port.backend_tls = lower == "https";  // HTTP over TLS to the pods
  } else if (lower != "tcp") {
    reader.warning(field, "appProtocol \"" + *name +
                              "\" is relayed at L4 (svcproxy proxies http, https and "
                              "kubernetes.io/ws at L7)");
  }
}

// nodePort 0 means "allocate one", as in Kubernetes.
void parse_node_port(YamlReader& reader, const Field& field, ServiceType type, ServicePort& port) {
  auto value = reader.integer(field);
  if (!value || *value == 0) return;
  if (type == ServiceType::ClusterIP) {
    reader.error(field, "nodePort is not allowed on a ClusterIP Service");
  } else if (type == ServiceType::ExternalName) {
    reader.error(field, "Forbidden: may not be used when `type` is 'ExternalName'");
  } else if (*value < 1 || *value > 65535) {
    reader.error(field, "Invalid value: " + std::to_string(*value) +
                            ": must be between 1 and 65535, inclusive");
  } else {
    port.node_port = static_cast<int>(*value);
    port.node_port_location = reader.location(field);
  }
}

ParsedPort parse_service_port(YamlReader& reader, const Field& field, ServiceType type) {
  ParsedPort parsed;
  ServicePort& port = parsed.port;
  port.location = reader.location(field);
  if (!reader.mapping(field)) return parsed;
  port.name = reader.string(field.child("name")).value_or("");
  parse_protocol(reader, field.child("protocol"), parsed);
  const Field number = field.child("port");
  if (reader.require(number)) port.port = reader.integer_in(number, 1, 65535).value_or(0);
  port.target_port = PortRef{port.port, ""};
  if (const Field target = field.child("targetPort"); !defaults_to_port(target))
    if (auto ref = reader.port_ref(target)) port.target_port = *ref;
  parse_node_port(reader, field.child("nodePort"), type, port);
  parse_app_protocol(reader, field.child("appProtocol"), port);
  if (port.transport == Transport::Udp && port.app_protocol == AppProtocol::Http) {
    reader.warning(field.child("appProtocol"),
                   "appProtocol \"" + port.app_protocol_name +
                       "\" on a UDP port: its datagrams are relayed as they are");
    port.app_protocol = AppProtocol::Tcp;
    port.backend_tls = false;
  }
  return parsed;
}

void check_port_names(YamlReader& reader, const Field& ports,
                      const std::vector<ParsedPort>& parsed) {
  std::map<std::string, std::size_t> seen;
  for (std::size_t i = 0; i < parsed.size(); ++i) {
    const std::string& name = parsed[i].port.name;
    const Field field = ports.item(i).child("name");
    if (name.empty()) {
      if (parsed.size() > 1)
        reader.error(field,
                     "Required value: a name is required when a Service has more than one port");
    } else if (!is_dns1123_label(name)) {
      reader.error(field, "\"" + name + "\" is not a valid port name (a lowercase DNS label)");
    } else if (auto [first, inserted] = seen.emplace(name, i); !inserted) {
      reader.error(
          field, "Duplicate value: \"" + name + "\" (also " + ports.item(first->second).path + ")");
    }
  }
}

void check_duplicate_ports(YamlReader& reader, const Field& ports,
                           const std::vector<ParsedPort>& parsed) {
  std::map<std::string, std::size_t> seen;
  for (std::size_t i = 0; i < parsed.size(); ++i) {
    if (parsed[i].port.port == 0) continue;
    const std::string key = std::to_string(parsed[i].port.port) + "/" + parsed[i].protocol;
    if (auto [first, inserted] = seen.emplace(key, i); !inserted)
      reader.error(ports.item(i).child("port"),
                   "Duplicate value: " + key + " (also " + ports.item(first->second).path + ")");
  }
}

void parse_ports(YamlReader& reader, const Field& spec, Service& service) {
  const Field ports = spec.child("ports");
  std::vector<ParsedPort> parsed;
  for (const Field& item : reader.items(ports))
    parsed.push_back(parse_service_port(reader, item, service.type));
  const bool list_or_absent = !ports.present() || ports.node.is_sequence();
  if (parsed.empty() && !service.headless && list_or_absent &&
      service.type != ServiceType::ExternalName)
    reader.error(ports, "a Service needs at least one port");
  check_port_names(reader, ports, parsed);
  check_duplicate_ports(reader, ports, parsed);
  for (auto& p : parsed)
    service.ports.push_back(std::move(p.port));
}

void parse_cluster_ip(YamlReader& reader, const Field& field, Service& service) {
  auto cluster_ip = reader.string(field);
  if (!cluster_ip || cluster_ip->empty()) return;
  if (*cluster_ip == "None") {
    service.headless = true;
    if (service.type != ServiceType::ClusterIP)
      reader.error(field, "clusterIP None (headless) is only valid for ClusterIP Services");
  } else if (!is_ip(*cluster_ip)) {
    reader.error(field, "\"" + *cluster_ip + "\" is not an IP address");
  } else {
    service.cluster_ip = *cluster_ip;
    service.cluster_ip_location = reader.location(field);
  }
}

void add_load_balancer_ip(YamlReader& reader, const Field& field, Service& service) {
  auto ip = reader.string(field);
  if (!ip || ip->empty()) return;
  if (!is_ip(*ip)) {
    reader.error(field, "\"" + *ip + "\" is not an IP address");
  } else if (std::find(service.load_balancer_ips.begin(), service.load_balancer_ips.end(), *ip) ==
             service.load_balancer_ips.end()) {
    service.load_balancer_ips.push_back(*ip);
  }
}

void parse_load_balancer_ips(YamlReader& reader, const Field& document, Service& service) {
  add_load_balancer_ip(reader, document.child("spec").child("loadBalancerIP"), service);
  const Field ingress = document.child("status").child("loadBalancer").child("ingress");
  for (const Field& item : reader.items(ingress))
    if (reader.mapping(item)) add_load_balancer_ip(reader, item.child("ip"), service);
  // Only a LoadBalancer listens on these; other types ignore them, as Kubernetes does.
  if (service.type != ServiceType::LoadBalancer) service.load_balancer_ips.clear();
}

void parse_affinity(YamlReader& reader, const Field& spec, Service& service) {
  if (auto affinity = parse_choice(reader, spec.child("sessionAffinity"), "sessionAffinity",
                                   {"None", "ClientIP"}))
    service.session_affinity = *affinity == 1 ? SessionAffinity::ClientIP : SessionAffinity::None;
  // Kubernetes' defaulting drops sessionAffinityConfig when affinity is None, before
  // validation: whatever it holds then is ignored.
  if (service.session_affinity != SessionAffinity::ClientIP) return;
  const Field timeout =
      spec.child("sessionAffinityConfig").child("clientIP").child("timeoutSeconds");
  if (auto seconds = reader.integer_in(timeout, 1, 86400))
    service.affinity_timeout = std::chrono::seconds(*seconds);
}

// The traffic policies and allocateLoadBalancerNodePorts, with Kubernetes' rules
// (validateServiceExternalTrafficPolicy, validateServiceInternalTrafficFieldsValue,
// ValidateService's allocateLoadBalancerNodePorts check) and messages.
// validateServiceExternalTrafficPolicy: only a LoadBalancer with externalTrafficPolicy
// Local has one; 0 (or none) asks allocation for one.
void parse_health_check_node_port(YamlReader& reader, const Field& field, Service& service) {
  auto value = reader.integer(field);
  if (!value || *value == 0) return;
  if (!needs_health_check_node_port(service)) {
    reader.error(field, "Invalid value: " + std::to_string(*value) +
                            ": may only be set when `type` is 'LoadBalancer' and "
                            "`externalTrafficPolicy` is 'Local'");
  } else if (*value < 1 || *value > 65535) {
    reader.error(field, "Invalid value: " + std::to_string(*value) +
                            ": must be between 1 and 65535, inclusive");
  } else {
    service.health_check_node_port = static_cast<int>(*value);
    service.health_check_node_port_location = reader.location(field);
  }
}

void parse_traffic_fields(YamlReader& reader, const Field& spec, Service& service) {
  const Field external = spec.child("externalTrafficPolicy");
  if (auto policy = parse_choice(reader, external, "externalTrafficPolicy", {"Cluster", "Local"})) {
    // Externally accessible: NodePort, LoadBalancer, or a ClusterIP with externalIPs.
    const bool external_access =
        service.type != ServiceType::ClusterIP || spec.child("externalIPs").present();
    if (external_access)
      service.external_traffic_policy = static_cast<TrafficPolicy>(*policy);
    else
      reader.error(external, "Invalid value: \"" + external.node.scalar() +
                                 "\": may only be set for externally-accessible services");
  }
  if (auto policy = parse_choice(reader, spec.child("internalTrafficPolicy"),
                                 "internalTrafficPolicy", {"Cluster", "Local"}))
    service.internal_traffic_policy = static_cast<TrafficPolicy>(*policy);
  const Field allocate = spec.child("allocateLoadBalancerNodePorts");
  if (auto value = reader.boolean(allocate)) {
    if (service.type == ServiceType::LoadBalancer)
      service.allocate_load_balancer_node_ports = *value;
    else
      reader.error(allocate, "Forbidden: may only be used when `type` is 'LoadBalancer'");
  }
  parse_health_check_node_port(reader, spec.child("healthCheckNodePort"), service);
}

// spec.ipFamilies and spec.ipFamilyPolicy as written, with the checks that need no cluster
// (ValidateServiceClusterIPsRelatedFields; the cluster's own are in conf/ip_families.cpp).
void parse_family_fields(YamlReader& reader, const Field& spec, Service& service) {
  const Field families = spec.child("ipFamilies");
  for (const Field& item : reader.items(families)) {
    auto family = reader.string(item);
    if (!family) continue;
    if (*family != "IPv4" && *family != "IPv6") {
      reader.error(item,
                   "Unsupported value: \"" + *family + "\": supported values: \"IPv4\", \"IPv6\"");
      continue;
    }
    const IpFamily value = *family == "IPv4" ? IpFamily::IPv4 : IpFamily::IPv6;
    if (std::find(service.ip_families.begin(), service.ip_families.end(), value) !=
        service.ip_families.end()) {
      reader.error(item, "Duplicate value: \"" + *family + "\"");
      continue;
    }
    service.ip_families.push_back(value);
    service.ip_family_locations.push_back(reader.location(item));
  }
  const Field policy = spec.child("ipFamilyPolicy");
  if (auto index = parse_choice(reader, policy, "ipFamilyPolicy",
                                {"SingleStack", "PreferDualStack", "RequireDualStack"})) {
    service.ip_family_policy = static_cast<IpFamilyPolicy>(*index);
    service.ip_family_policy_location = reader.location(policy);
  }
}

std::string scalar_text(const Field& field) {
  return field.node.is_scalar() ? field.node.scalar() : std::string();
}

// spec.clusterIPs against spec.clusterIP and ipFamilies (ValidateServiceClusterIPsRelatedFields,
// and initIPFamilyFields' SingleStack rules, which need no cluster): its first value is
// clusterIP, a second one (dual-stack) of the other family.
void parse_cluster_ips(YamlReader& reader, const Field& spec, Service& service) {
  const Field cluster_ips = spec.child("clusterIPs");
  const std::vector<Field> items = reader.items(cluster_ips);
  const Field cluster_ip = spec.child("clusterIP");
  // As written, read without reporting again what parse_cluster_ip reported.
  const std::string written = service.headless ? "None" : scalar_text(cluster_ip);
  if (!items.empty() && written.empty()) {
    reader.error(cluster_ips, "Invalid value: must be empty when `clusterIP` is not specified");
    return;
  }
  if (!items.empty() && scalar_text(items[0]) != written) {
    reader.error(cluster_ips, "Invalid value: first value must match `clusterIP`");
    return;
  }
  if (items.size() > 2) {
    reader.error(cluster_ips, "Invalid value: may only hold up to 2 values");
    return;
  }
  // Unset, clusterIPs is [clusterIP] (NormalizeClusterIPs); what is checked below.
  std::vector<std::pair<std::string, Field>> ips;
  if (!written.empty()) {
    Field first = items.empty() ? cluster_ip : items[0];
    first.path = cluster_ips.path + "[0]";
    ips.emplace_back(written, std::move(first));
  }
  if (items.size() == 2) {
    const std::string second = scalar_text(items[1]);
    if (written == "None") {
      reader.error(cluster_ips, "Invalid value: 'None' must be the first and only value");
      return;
    }
    if (!is_ip(second)) {
      reader.error(items[1],
                   "Invalid value: \"" + second +
                       "\": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)");
      return;
    }
    if (!is_ip(written)) return;  // reported as clusterIP's
    if (ip_family_of(second) == ip_family_of(written)) {
      reader.error(cluster_ips,
                   "Invalid value: may specify no more than one IP for each IP family");
      return;
    }
    ips.emplace_back(second, items[1]);
    service.secondary_cluster_ip = second;
    service.secondary_cluster_ip_location = reader.location(items[1]);
  }
  if (service.headless) return;
  for (std::size_t i = 0; i < ips.size() && i < service.ip_families.size(); ++i) {
    const auto family = ip_family_of(ips[i].first);
    if (family && *family != service.ip_families[i])
      reader.error(ips[i].second, "Invalid value: \"" + ips[i].first + "\": expected an " +
                                      to_string(service.ip_families[i]) +
                                      " value as indicated by `ipFamilies[" + std::to_string(i) +
                                      "]`");
  }
}

void parse_ip_families(YamlReader& reader, const Field& spec, Service& service) {
  parse_family_fields(reader, spec, service);
  parse_cluster_ips(reader, spec, service);
  if (service.ip_family_policy != IpFamilyPolicy::SingleStack) return;
  const Field policy = spec.child("ipFamilyPolicy");
  if (!service.secondary_cluster_ip.empty())
    reader.error(policy,
                 "Invalid value: \"SingleStack\": must be 'RequireDualStack' or "
                 "'PreferDualStack' when multiple cluster IPs are specified");
  if (service.ip_families.size() > 1)
    reader.error(policy,
                 "Invalid value: \"SingleStack\": must be 'RequireDualStack' or "
                 "'PreferDualStack' when multiple IP families are specified");
}

// Fields Kubernetes acts on that svcproxy does not: loaded, with one warning each, so
// nobody believes e.g. loadBalancerSourceRanges filters clients here.
void warn_unhonoured(YamlReader& reader, const Field& spec) {
  static const std::vector<std::pair<std::string, std::string>> kUnhonoured{
      {"externalIPs", "svcproxy listens on no external IP (use a LoadBalancer's loadBalancerIP)"},
      {"loadBalancerSourceRanges", "svcproxy does not filter clients by source address"},
      {"loadBalancerClass", "svcproxy serves every LoadBalancer Service"},
      {"externalName", "only type ExternalName uses it"},
  };
  const bool external_name =
      spec.child("type").node.is_scalar() && spec.child("type").node.scalar() == "ExternalName";
  for (const auto& [name, why] : kUnhonoured)
    if (const Field field = spec.child(name);
        field.present() && !(external_name && name == "externalName"))
      reader.warning(field, name + " is not honoured: " + why);
}

// type ExternalName (ValidateService): a DNS name and nothing svcproxy listens for; no
// ClusterIP or IP family may be given, and its selector, if any, selects nothing.
void parse_external_name(YamlReader& reader, const Field& spec, Service& service) {
  const Field name = spec.child("externalName");
  if (reader.require(name)) {
    std::string value = reader.string(name).value_or("");
    if (!value.empty() && value.back() == '.') value.pop_back();  // one trailing dot is fine
    const std::vector<std::string> problems = dns1123_subdomain_errors(value);
    for (const std::string& problem : problems)
      reader.error(name, "Invalid value: \"" + value + "\": " + problem);
    if (problems.empty()) service.external_name = value;
  }
  for (const char* forbidden : {"clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"})
    if (const Field field = spec.child(forbidden);
        field.present() && !(field.node.is_scalar() && field.node.scalar().empty()))
      reader.error(field, "Forbidden: may not be set for ExternalName services");
  service.selector.clear();
}

void parse_spec(YamlReader& reader, const Field& spec, Service& service) {
  if (auto type = parse_choice(reader, spec.child("type"), "type",
                               {"ClusterIP", "NodePort", "LoadBalancer", "ExternalName"}))
    service.type = static_cast<ServiceType>(*type);
  if (service.type == ServiceType::ExternalName) {
    parse_external_name(reader, spec, service);
    parse_ports(reader, spec, service);
    warn_unhonoured(reader, spec);
    return;
  }
  service.selector = reader.labels(spec.child("selector"));
  parse_cluster_ip(reader, spec.child("clusterIP"), service);
  parse_ports(reader, spec, service);
  parse_affinity(reader, spec, service);
  parse_traffic_fields(reader, spec, service);
  parse_ip_families(reader, spec, service);
  if (auto distribution = reader.string(spec.child("trafficDistribution"))) {
    if (*distribution == "PreferClose")
      service.prefer_close = true;
    else
      reader.error(spec.child("trafficDistribution"), "Unsupported value: \"" + *distribution +
                                                          "\": supported values: \"PreferClose\"");
  }
  warn_unhonoured(reader, spec);
  service.publish_not_ready_addresses =
      reader.boolean(spec.child("publishNotReadyAddresses")).value_or(false);
}

}  // namespace

Service parse_service(YamlReader& reader, const Field& document) {
  Service service;
  service.location = reader.location(document);
  Metadata metadata = parse_metadata(reader, document, NameRule::Dns1035Label);
  service.name = metadata.name;
  service.namespace_name = metadata.namespace_name;
  service.labels = std::move(metadata.labels);
  service.created.rfc3339 = std::move(metadata.created);
  service.annotations = std::move(metadata.annotations);
  const Field policy =
      document.child("metadata").child("annotations").child(load_balancing_annotation);
  if (auto index = parse_choice(reader, policy, "load-balancing policy",
                                {"round-robin", "least-connections"}))
    service.load_balancing = static_cast<LoadBalancing>(*index);
  const Field spec = document.child("spec");
  if (reader.require(spec) && reader.mapping(spec)) {
    parse_spec(reader, spec, service);
    parse_load_balancer_ips(reader, document, service);
    parse_tls_annotations(reader, document.child("metadata").child("annotations"), service);
    parse_backend_tls_annotations(reader, document.child("metadata").child("annotations"),
                                  spec.child("ports"), service);
  }
  return service;
}

}  // namespace svcproxy::conf

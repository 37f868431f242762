// svcproxy.io/v1 ProxyConfig: the proxy's own settings. Keys mirror the model in camelCase;
// an invalid value is reported and the default kept.
#include <algorithm>
#include <cctype>
#include <limits>

#include "conf/addresses.hpp"
#include "conf/names.hpp"
#include "conf/parsers.hpp"

namespace svcproxy::conf {
namespace {

constexpr int int_max = std::numeric_limits<int>::max();

void read_duration(YamlReader& reader, const Field& field, Duration& out, bool allow_zero) {
  auto value = reader.duration(field);
  if (!value) return;
  if (value->count() == 0 && !allow_zero) {
    reader.error(field, "must be a positive duration");
    return;
  }
  out = *value;
}

void read_int(YamlReader& reader, const Field& field, int min, int& out) {
  if (auto value = reader.integer_in(field, min, int_max)) out = *value;
}

// A list of strings each checked by `valid`; the whole list is replaced when present.
template <typename Valid>
void read_list(YamlReader& reader, const Field& field, const char* what, Valid valid,
               std::vector<std::string>& out) {
  if (!field.present()) return;
  std::vector<std::string> values;
  for (const Field& item : reader.items(field)) {
    auto text = reader.string(item);
    if (!text) continue;
    if (valid(*text)) {
      values.push_back(*text);
    } else {
      reader.error(item, "\"" + *text + "\" is not " + what);
    }
  }
  out = std::move(values);
}

void parse_timeouts(YamlReader& reader, const Field& field, Timeouts& timeouts) {
  if (!field.present() || !reader.mapping(field)) return;
  read_duration(reader, field.child("connect"), timeouts.connect, false);
  read_duration(reader, field.child("idle"), timeouts.idle, false);
  read_duration(reader, field.child("requestHeader"), timeouts.request_header, false);
  read_duration(reader, field.child("upstreamResponse"), timeouts.upstream_response, false);
  // A zero drain is meaningful: stop at once.
  read_duration(reader, field.child("drain"), timeouts.drain, true);
  read_duration(reader, field.child("requestBody"), timeouts.request_body, false);
  read_duration(reader, field.child("tlsHandshake"), timeouts.tls_handshake, false);
  read_duration(reader, field.child("udpIdle"), timeouts.udp_idle, false);
}

void parse_limits(YamlReader& reader, const Field& field, Limits& limits) {
  if (!field.present() || !reader.mapping(field)) return;
  read_int(reader, field.child("maxConnections"), 1, limits.max_connections);
  read_int(reader, field.child("maxUdpSessions"), 1, limits.max_udp_sessions);
  read_int(reader, field.child("maxHeaderBytes"), 1, limits.max_header_bytes);
  read_int(reader, field.child("maxRequestLineBytes"), 1, limits.max_request_line_bytes);
  read_int(reader, field.child("maxHeaderCount"), 1, limits.max_header_count);
  read_int(reader, field.child("maxChunkLineBytes"), 1, limits.max_chunk_line_bytes);
  if (auto allow = reader.boolean(field.child("allowUnderscoresInHeaders")))
    limits.allow_underscores_in_headers = *allow;
  const Field body = field.child("maxBodyBytes");
  if (auto value = reader.integer(body)) {
    if (*value >= 0) {
      limits.max_body_bytes = *value;
    } else {
      reader.error(body, "must be at least 0 (0: unlimited), got " + std::to_string(*value));
    }
  }
}

void parse_admin_limits(YamlReader& reader, const Field& field, AdminLimits& admin) {
  if (!field.present() || !reader.mapping(field)) return;
  const Field body = field.child("maxBodyBytes");
  if (auto value = reader.integer(body)) {
    if (*value >= 1024)
      admin.max_body_bytes = *value;
    else
      reader.error(body, "must be at least 1024 (one manifest), got " + std::to_string(*value));
  }
  read_int(reader, field.child("maxHeaderBytes"), 1024, admin.max_header_bytes);
  read_int(reader, field.child("maxConnections"), 1, admin.max_connections);
  read_duration(reader, field.child("requestTimeout"), admin.request_timeout, false);
  read_duration(reader, field.child("writeTimeout"), admin.write_timeout, false);
  read_duration(reader, field.child("watchPollInterval"), admin.watch_poll_interval, false);
  read_duration(reader, field.child("maxWatchDuration"), admin.max_watch_duration, false);
  if (admin.max_watch_duration < std::chrono::seconds(1))
    reader.error(field.child("maxWatchDuration"), "must be at least 1s");
}

void parse_outlier_detection(YamlReader& reader, const Field& field, OutlierDetection& out) {
  if (!field.present() || !reader.mapping(field)) return;
  if (auto enabled = reader.boolean(field.child("enabled"))) out.enabled = *enabled;
  read_int(reader, field.child("consecutiveFailures"), 1, out.consecutive_failures);
  read_int(reader, field.child("consecutive5xx"), 1, out.consecutive_5xx);
  read_duration(reader, field.child("baseEjectionTime"), out.base_ejection_time, false);
  read_duration(reader, field.child("maxEjectionTime"), out.max_ejection_time, false);
  if (auto percent = reader.integer_in(field.child("maxEjectionPercent"), 0, 100))
    out.max_ejection_percent = *percent;
  if (out.max_ejection_time < out.base_ejection_time)
    reader.error(field.child("maxEjectionTime"), "must not be shorter than baseEjectionTime");
}

void parse_node_health_check(YamlReader& reader, const Field& field, NodeHealthCheck& out) {
  if (!field.present() || !reader.mapping(field)) return;
  read_duration(reader, field.child("period"), out.period, false);
  read_duration(reader, field.child("timeout"), out.timeout, false);
  read_int(reader, field.child("failureThreshold"), 1, out.failure_threshold);
  read_int(reader, field.child("successThreshold"), 1, out.success_threshold);
}

void parse_access_log(YamlReader& reader, const Field& field, AccessLog& out) {
  if (!field.present() || !reader.mapping(field)) return;
  if (auto enabled = reader.boolean(field.child("enabled"))) out.enabled = *enabled;
  if (auto format = parse_choice(reader, field.child("format"), "format", {"text", "json"}))
    out.format = *format == 1 ? AccessLog::Format::Json : AccessLog::Format::Text;
  out.path = reader.string(field.child("path")).value_or(out.path);
}

// A node's zone, as the value of its topology.kubernetes.io/zone label.
std::string read_zone(YamlReader& reader, const Field& field) {
  const std::string zone = reader.string(field).value_or("");
  const std::vector<std::string> problems = label_value_errors(zone);
  for (const std::string& problem : problems)
    reader.error(field, "Invalid value: \"" + zone + "\": " + problem);
  return problems.empty() ? zone : std::string();
}

void parse_nodes(YamlReader& reader, const Field& field, std::vector<NodeRef>& nodes) {
  for (const Field& item : reader.items(field)) {
    if (!reader.mapping(item)) continue;
    NodeRef node;
    if (reader.require(item.child("name")))
      node.name = reader.string(item.child("name")).value_or("");
    node.zone = read_zone(reader, item.child("zone"));
    // An entry that gives a zone may leave the address out: it only tells where that node
    // is (trafficDistribution), and receives no LoadBalancer traffic.
    const Field address = item.child("address");
    if (node.zone.empty() ? reader.require(address) : address.present())
      node.address = reader.string(address).value_or("");
    if (!node.address.empty() && !is_ip(node.address))
      reader.error(address, "\"" + node.address + "\" is not an IP address");
    nodes.push_back(std::move(node));
  }
}

void parse_network(YamlReader& reader, const Field& spec, ProxySettings& proxy) {
  read_list(
      reader, spec.child("nodePortAddresses"), "an IP address",
      [](const std::string& text) { return is_ip(text); }, proxy.node_port_addresses);
  const Field cidr = spec.child("serviceCIDR");
  if (auto text = reader.string(cidr)) {
    auto parsed = parse_service_cidr(*text);
    if (const auto* problem = std::get_if<std::string>(&parsed))
      reader.error(cidr, *problem);
    else
      proxy.service_cidr = *text;
  }
  const Field range = spec.child("nodePortRange");
  if (auto text = reader.string(range)) {
    if (auto parsed = parse_port_range(*text)) {
      proxy.node_port_range = *parsed;
    } else {
      reader.error(range, "\"" + *text + "\" is not a port range like 30000-32767");
    }
  }
}

void read_address(YamlReader& reader, const Field& field, std::string& address) {
  if (auto text = reader.string(field)) {
    if (parse_host_port(*text, /*port_optional=*/false))
      address = *text;
    else
      reader.error(field, "\"" + *text + "\" is not host:port");
  }
}

void parse_endpoints(YamlReader& reader, const Field& spec, ProxySettings& proxy) {
  read_address(reader, spec.child("adminAddress"), proxy.admin_address);
  read_address(reader, spec.child("apiAddress"), proxy.api_address);
  if (const Field healthz = spec.child("healthzAddress");
      healthz.node.is_scalar() && healthz.node.scalar().empty())
    proxy.healthz_address.clear();  // "" turns it off
  else
    read_address(reader, healthz, proxy.healthz_address);
  const Field token = spec.child("apiTokenFile");
  if (auto text = reader.string(token)) {
    if (text->empty())
      reader.error(token, "must be a file path");
    else
      proxy.api_token_file = *text;
  }
  read_list(
      reader, spec.child("dnsServers"), "ip[:port]",
      [](const std::string& text) {
        auto parsed = parse_host_port(text, /*port_optional=*/true);
        return parsed && is_ip(parsed->host);
      },
      proxy.dns_servers);
}

void parse_tls(YamlReader& reader, const Field& field, TlsSettings& tls) {
  if (!field.present() || !reader.mapping(field)) return;
  const Field version = field.child("minVersion");
  if (auto text = reader.string(version)) {
    if (*text == "1.2" || *text == "1.3")
      tls.min_version = *text;
    else
      reader.error(version, "\"" + *text + "\" is not a TLS version svcproxy offers (1.2 or 1.3)");
  }
  const Field ciphers = field.child("ciphers");
  if (auto text = reader.string(ciphers)) {
    if (text->empty() || text->find_first_of(" \t\n") != std::string::npos)
      reader.error(ciphers,
                   "must be an OpenSSL cipher list like ECDHE-ECDSA-AES128-GCM-SHA256:...");
    else
      tls.ciphers = *text;
  }
  read_duration(reader, field.child("ticketKeyRotation"), tls.ticket_key_rotation, false);
  if (tls.ticket_key_rotation < std::chrono::seconds(1))
    reader.error(field.child("ticketKeyRotation"), "must be at least 1s");
}

void parse_etcd(YamlReader& reader, const Field& field, EtcdSettings& etcd) {
  if (!field.present() || !reader.mapping(field)) return;
  read_list(
      reader, field.child("endpoints"), "an http://HOST:PORT URL",
      [](const std::string& text) {
        std::string_view rest = text;
        if (rest.starts_with("http://")) rest.remove_prefix(7);
        while (!rest.empty() && rest.back() == '/')
          rest.remove_suffix(1);
        return parse_host_port(rest, /*port_optional=*/true).has_value();
      },
      etcd.endpoints);
  const Field prefix = field.child("prefix");
  if (auto text = reader.string(prefix)) {
    if (text->empty() || text->front() != '/' || text->find("//") != std::string::npos)
      reader.error(prefix, "\"" + *text + "\" is not a key prefix like /registry");
    else
      etcd.prefix = *text;
  }
  read_duration(reader, field.child("leaseTTL"), etcd.lease_ttl, false);
  if (etcd.lease_ttl < std::chrono::seconds(2))
    reader.error(field.child("leaseTTL"), "must be at least 2s (etcd's leases count in seconds)");
  read_duration(reader, field.child("nodeGracePeriod"), etcd.node_grace_period, true);
  read_duration(reader, field.child("resyncPeriod"), etcd.resync_period, false);
  read_duration(reader, field.child("requestTimeout"), etcd.request_timeout, false);
  const Field advertise = field.child("advertiseAddress");
  if (auto text = reader.string(advertise)) {
    if (is_ip(*text))
      etcd.advertise_address = *text;
    else
      reader.error(advertise, "\"" + *text + "\" is not an IP address");
  }
  if (auto edge = reader.boolean(field.child("edge"))) etcd.edge = *edge;
}

// A DNS name of dotted RFC 1123 labels, at most 253 octets, as a cluster domain is.
bool is_domain(const std::string& text) {
  if (text.empty() || text.size() > 253) return false;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto dot = std::min(text.find('.', start), text.size());
    if (!is_dns1123_label(std::string_view(text).substr(start, dot - start))) return false;
    start = dot + 1;
  }
  return true;
}

void parse_cluster_dns(YamlReader& reader, const Field& field, ClusterDns& dns) {
  if (!field.present() || !reader.mapping(field)) return;
  dns.enabled = true;
  const Field address = field.child("address");
  read_address(reader, address, dns.address);
  if (auto parsed = parse_host_port(dns.address, /*port_optional=*/false);
      !parsed || !is_ip(parsed->host))
    reader.error(address, "\"" + dns.address + "\" is not ip:port");
  const Field domain = field.child("domain");
  if (auto text = reader.string(domain)) {
    std::string lowered = *text;
    for (char& c : lowered)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    while (!lowered.empty() && lowered.back() == '.')
      lowered.pop_back();
    if (is_domain(lowered))
      dns.domain = lowered;
    else
      reader.error(domain, "\"" + *text + "\" is not a DNS domain like cluster.local");
  }
  read_duration(reader, field.child("ttl"), dns.ttl, true);
  if (dns.ttl > std::chrono::hours(24 * 7))
    reader.error(field.child("ttl"), "must be at most 168h");
  if (auto size = reader.integer_in(field.child("udpPayloadSize"), 512, 65535))
    dns.udp_payload_size = *size;
  read_int(reader, field.child("maxTcpConnections"), 1, dns.max_tcp_connections);
  read_duration(reader, field.child("tcpIdleTimeout"), dns.tcp_idle_timeout, false);
}

}  // namespace

ProxySettings parse_proxy_config(YamlReader& reader, const Field& document) {
  ProxySettings proxy;
  proxy.location = reader.location(document);
  const Field spec = document.child("spec");
  if (!spec.present() || !reader.mapping(spec)) return proxy;  // all defaults
  proxy.node_name = reader.string(spec.child("nodeName")).value_or("");
  proxy.zone = read_zone(reader, spec.child("zone"));
  parse_network(reader, spec, proxy);
  parse_endpoints(reader, spec, proxy);
  read_int(reader, spec.child("workers"), 0, proxy.workers);
  if (auto policy = parse_choice(reader, spec.child("loadBalancing"), "loadBalancing",
                                 {"round-robin", "least-connections"}))
    proxy.load_balancing = static_cast<LoadBalancing>(*policy);
  parse_timeouts(reader, spec.child("timeouts"), proxy.timeouts);
  parse_tls(reader, spec.child("tls"), proxy.tls);
  parse_limits(reader, spec.child("limits"), proxy.limits);
  parse_admin_limits(reader, spec.child("admin"), proxy.admin);
  parse_outlier_detection(reader, spec.child("outlierDetection"), proxy.outlier_detection);
  parse_node_health_check(reader, spec.child("nodeHealthCheck"), proxy.node_health_check);
  parse_access_log(reader, spec.child("accessLog"), proxy.access_log);
  parse_nodes(reader, spec.child("nodes"), proxy.nodes);
  parse_etcd(reader, spec.child("etcd"), proxy.etcd);
  parse_cluster_dns(reader, spec.child("dns"), proxy.dns);
  return proxy;
}

}  // namespace svcproxy::conf

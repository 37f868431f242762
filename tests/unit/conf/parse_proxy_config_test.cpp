#include <doctest/doctest.h>

#include "conf_test_support.hpp"

namespace svcproxy::conf {
namespace {

using testing::load;
using testing::load_ok;
using testing::only_error;

// A ProxyConfig whose spec starts on line 4.
std::string proxy_config(const std::string& spec) {
  return "apiVersion: svcproxy.io/v1\nkind: ProxyConfig\nspec:\n" + spec;
}

TEST_CASE("without a ProxyConfig every setting has its default") {
  const ProxySettings proxy = load_ok("").proxy;
  CHECK(proxy.node_port_addresses == std::vector<std::string>{"0.0.0.0"});
  CHECK(proxy.service_cidr == "127.96.0.0/12");
  CHECK(proxy.node_port_range.first == 30000);
  CHECK(proxy.node_port_range.last == 32767);
  CHECK(proxy.admin_address == "127.0.0.1:10249");
  CHECK(proxy.api_address.empty());
  CHECK(proxy.api_token_file.empty());
  CHECK(proxy.tls.min_version == "1.2");
  CHECK(proxy.timeouts.tls_handshake == std::chrono::seconds(10));
  CHECK(proxy.load_balancing == LoadBalancing::RoundRobin);
  CHECK(proxy.timeouts.connect == std::chrono::seconds(5));
  CHECK(proxy.timeouts.request_body == std::chrono::seconds(60));
  CHECK(proxy.limits.max_request_line_bytes == 8192);
  CHECK(proxy.limits.max_header_count == 100);
  CHECK(proxy.limits.max_chunk_line_bytes == 4096);
  CHECK_FALSE(proxy.limits.allow_underscores_in_headers);
  CHECK(proxy.admin.max_body_bytes == 3 * 1024 * 1024);  // kube-apiserver's
  CHECK(proxy.admin.max_watch_duration == std::chrono::minutes(30));
}

TEST_CASE("every ProxyConfig field is read") {
  const ProxySettings proxy = load_ok(proxy_config(R"(  nodeName: node-a
  zone: zone-a
  nodePortAddresses: [127.0.0.1, '::1']
  serviceCIDR: 10.96.0.0/16
  nodePortRange: 31000-31999
  adminAddress: localhost:9000
  apiAddress: 0.0.0.0:6443
  apiTokenFile: /etc/svcproxy/api-token
  tls: {minVersion: '1.3', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256', ticketKeyRotation: 10m}
  workers: 4
  loadBalancing: least-connections
  dnsServers: [127.0.0.53, '127.0.0.1:5353', '[::1]:53', '::1']
  timeouts: {connect: 500ms, idle: 1m30s, requestHeader: 2s, upstreamResponse: 1h, drain: 0s,
             requestBody: 15s}
  limits: {maxConnections: 10, maxHeaderBytes: 8192, maxBodyBytes: 1048576,
           maxRequestLineBytes: 2048, maxHeaderCount: 50, maxChunkLineBytes: 256,
           allowUnderscoresInHeaders: true}
  outlierDetection:
    enabled: false
    consecutiveFailures: 2
    consecutive5xx: 3
    baseEjectionTime: 10s
    maxEjectionTime: 1m
    maxEjectionPercent: 100
  accessLog: {enabled: false, format: json, path: /tmp/access.log}
  admin: {maxBodyBytes: 65536, maxHeaderBytes: 4096, maxConnections: 8, requestTimeout: 2s,
          writeTimeout: 5s, watchPollInterval: 250ms, maxWatchDuration: 5m}
  nodes:
    - {name: node-a, address: 10.0.0.1}
    - {name: node-b, address: 10.0.0.2, zone: zone-b}
)"))
                                  .proxy;
  CHECK(proxy.node_name == "node-a");
  CHECK(proxy.node_port_addresses == std::vector<std::string>{"127.0.0.1", "::1"});
  CHECK(proxy.service_cidr == "10.96.0.0/16");
  CHECK(proxy.node_port_range.first == 31000);
  CHECK(proxy.node_port_range.last == 31999);
  CHECK(proxy.admin_address == "localhost:9000");
  CHECK(proxy.api_address == "0.0.0.0:6443");
  CHECK(proxy.api_token_file == "/etc/svcproxy/api-token");
  CHECK(proxy.tls.min_version == "1.3");
  CHECK(proxy.tls.ciphers == "ECDHE-ECDSA-AES128-GCM-SHA256");
  CHECK(proxy.tls.ticket_key_rotation == std::chrono::minutes(10));
  CHECK(proxy.admin.max_body_bytes == 65536);
  CHECK(proxy.admin.max_header_bytes == 4096);
  CHECK(proxy.admin.max_connections == 8);
  CHECK(proxy.admin.request_timeout == std::chrono::seconds(2));
  CHECK(proxy.admin.write_timeout == std::chrono::seconds(5));
  CHECK(proxy.admin.watch_poll_interval == std::chrono::milliseconds(250));
  CHECK(proxy.admin.max_watch_duration == std::chrono::minutes(5));
  CHECK(proxy.workers == 4);
  CHECK(proxy.load_balancing == LoadBalancing::LeastConnections);
  CHECK(proxy.dns_servers.size() == 4);
  CHECK(proxy.timeouts.connect == std::chrono::milliseconds(500));
  CHECK(proxy.timeouts.idle == std::chrono::seconds(90));
  CHECK(proxy.timeouts.request_header == std::chrono::seconds(2));
  CHECK(proxy.timeouts.upstream_response == std::chrono::hours(1));
  CHECK(proxy.timeouts.drain == std::chrono::seconds(0));
  CHECK(proxy.limits.max_connections == 10);
  CHECK(proxy.limits.max_header_bytes == 8192);
  CHECK(proxy.limits.max_body_bytes == 1048576);
  CHECK(proxy.timeouts.request_body == std::chrono::seconds(15));
  CHECK(proxy.limits.max_request_line_bytes == 2048);
  CHECK(proxy.limits.max_header_count == 50);
  CHECK(proxy.limits.max_chunk_line_bytes == 256);
  CHECK(proxy.limits.allow_underscores_in_headers);
  CHECK_FALSE(proxy.outlier_detection.enabled);
  CHECK(proxy.outlier_detection.consecutive_failures == 2);
  CHECK(proxy.outlier_detection.consecutive_5xx == 3);
  CHECK(proxy.outlier_detection.base_ejection_time == std::chrono::seconds(10));
  CHECK(proxy.outlier_detection.max_ejection_time == std::chrono::minutes(1));
  CHECK(proxy.outlier_detection.max_ejection_percent == 100);
  CHECK_FALSE(proxy.access_log.enabled);
  CHECK(proxy.access_log.format == AccessLog::Format::Json);
  CHECK(proxy.access_log.path == "/tmp/access.log");
  REQUIRE(proxy.nodes.size() == 2);
  CHECK(proxy.nodes[1].name == "node-b");
  CHECK(proxy.nodes[1].address == "10.0.0.2");
  CHECK(proxy.zone == "zone-a");
  CHECK(proxy.nodes[0].zone.empty());
  CHECK(proxy.nodes[1].zone == "zone-b");
}

TEST_CASE(
    "a node's zone: its own, a nodes[] entry's, none; an entry with a zone needs no address") {
  const ProxySettings proxy = load_ok(proxy_config("  nodeName: node-a\n  zone: zone-a\n  nodes:\n"
                                                   "    - {name: node-b, zone: zone-b}\n"
                                                   "    - {name: node-c, address: 10.0.0.3}\n"))
                                  .proxy;
  CHECK(zone_of_node(proxy, "node-a") == "zone-a");
  CHECK(zone_of_node(proxy, "node-b") == "zone-b");
  CHECK(zone_of_node(proxy, "node-c").empty());
  CHECK(zone_of_node(proxy, "node-d").empty());
  CHECK(zone_of_node(proxy, "").empty());  // a pod with no nodeName has no zone
  CHECK(proxy.nodes[0].address.empty());
  CHECK(forwards_to_nodes(proxy));  // node-c has an address
  const ProxySettings zones_only =
      load_ok(proxy_config("  nodes: [{name: node-b, zone: zone-b}]\n")).proxy;
  CHECK_FALSE(forwards_to_nodes(zones_only));  // no edge: nothing to forward to
}

TEST_CASE("invalid ProxyConfig values are errors at their field") {
  struct Case {
    std::string spec;
    std::string error;
  };
  const Case cases[] = {
      {"  serviceCIDR: 10.96.0.1/16\n",
       "test.yaml:4:16: spec.serviceCIDR: \"10.96.0.1/16\" is not a CIDR (like "
       "127.96.0.0/12 or fd00:10:96::/112, no host bits)"},
      {"  serviceCIDR: 10.96.0.0/31\n",
       "test.yaml:4:16: spec.serviceCIDR: \"10.96.0.0/31\" is too small: at most /30, to leave "
       "service addresses"},
      // kube-apiserver's --service-cluster-ip-range rules (validateClusterIPFlags,
      // validateMaxCIDRRange: at most 20 host bits).
      {"  serviceCIDR: 'fd00::/64'\n",
       "test.yaml:4:16: spec.serviceCIDR: \"fd00::/64\" is too large; for 128-bit addresses, the "
       "mask must be >= 108 (kube-apiserver's limit on a service range)"},
      {"  serviceCIDR: 'fd00::/127'\n",
       "test.yaml:4:16: spec.serviceCIDR: \"fd00::/127\" is too small: at most /126, to leave "
       "service addresses"},
      {"  serviceCIDR: '10.96.0.0/16,10.97.0.0/16'\n",
       "test.yaml:4:16: spec.serviceCIDR: \"10.96.0.0/16,10.97.0.0/16\": serviceCIDR[0] and "
       "serviceCIDR[1] must be of different IP family"},
      {"  serviceCIDR: 'fd00::/112,fd01::/112'\n",
       "test.yaml:4:16: spec.serviceCIDR: \"fd00::/112,fd01::/112\": serviceCIDR[0] and "
       "serviceCIDR[1] must be of different IP family"},
      {"  serviceCIDR: '10.96.0.0/16,fd00::1/112'\n",
       "test.yaml:4:16: spec.serviceCIDR: \"fd00::1/112\" is not a CIDR (like 127.96.0.0/12 or "
       "fd00:10:96::/112, no host bits)"},
      {"  serviceCIDR: '10.96.0.0/16,fd00::/112,10.97.0.0/16'\n",
       "test.yaml:4:16: spec.serviceCIDR: \"10.96.0.0/16,fd00::/112,10.97.0.0/16\" must not "
       "contain more than two entries (one per IP family)"},
      {"  serviceCIDR: '10.96.0.0/16,'\n",
       "test.yaml:4:16: spec.serviceCIDR: \"\" is not a CIDR (like 127.96.0.0/12 or "
       "fd00:10:96::/112, no host bits)"},
      {"  nodePortRange: 32767-30000\n",
       "test.yaml:4:18: spec.nodePortRange: \"32767-30000\" is not a port range like 30000-32767"},
      {"  nodePortRange: 0-100\n",
       "test.yaml:4:18: spec.nodePortRange: \"0-100\" is not a port range like 30000-32767"},
      {"  adminAddress: 127.0.0.1\n",
       "test.yaml:4:17: spec.adminAddress: \"127.0.0.1\" is not host:port"},
      {"  apiAddress: '0.0.0.0'\n",
       "test.yaml:4:15: spec.apiAddress: \"0.0.0.0\" is not host:port"},
      {"  apiTokenFile: ''\n", "test.yaml:4:17: spec.apiTokenFile: must be a file path"},
      {"  tls: {minVersion: '1.1'}\n",
       "test.yaml:4:21: spec.tls.minVersion: \"1.1\" is not a TLS version svcproxy offers (1.2 or "
       "1.3)"},
      {"  nodePortAddresses: [127.0.0.1, eth0]\n",
       "test.yaml:4:34: spec.nodePortAddresses[1]: \"eth0\" is not an IP address"},
      {"  dnsServers: [dns.example]\n",
       "test.yaml:4:16: spec.dnsServers[0]: \"dns.example\" is not ip[:port]"},
      {"  workers: -1\n",
       "test.yaml:4:12: spec.workers: Invalid value: -1: must be greater than or equal to 0"},
      {"  loadBalancing: random\n",
       "test.yaml:4:18: spec.loadBalancing: unknown loadBalancing \"random\" (expected round-robin "
       "or least-connections)"},
      {"  timeouts: {connect: 5}\n",
       "test.yaml:4:23: spec.timeouts.connect: invalid duration \"5\" (examples: 500ms, 2s, 5m, "
       "1m30s)"},
      {"  timeouts: {idle: 0s}\n",
       "test.yaml:4:20: spec.timeouts.idle: must be a positive duration"},
      {"  limits: {maxConnections: 0}\n",
       "test.yaml:4:28: spec.limits.maxConnections: Invalid value: 0: must be greater than or "
       "equal to 1"},
      {"  limits: {maxHeaderCount: 0}\n",
       "test.yaml:4:28: spec.limits.maxHeaderCount: Invalid value: 0: must be greater than or "
       "equal to 1"},
      {"  timeouts: {requestBody: 0s}\n",
       "test.yaml:4:27: spec.timeouts.requestBody: must be a positive duration"},
      {"  limits: {maxBodyBytes: -5}\n",
       "test.yaml:4:26: spec.limits.maxBodyBytes: must be at least 0 (0: unlimited), got -5"},
      {"  outlierDetection: {maxEjectionPercent: 101}\n",
       "test.yaml:4:42: spec.outlierDetection.maxEjectionPercent: Invalid value: 101: must be "
       "between 0 and 100, inclusive"},
      {"  outlierDetection: {enabled: maybe}\n",
       "test.yaml:4:31: spec.outlierDetection.enabled: expected true or false, got \"maybe\""},
      {"  outlierDetection: {baseEjectionTime: 5m, maxEjectionTime: 1m}\n",
       "test.yaml:4:61: spec.outlierDetection.maxEjectionTime: must not be shorter than "
       "baseEjectionTime"},
      {"  accessLog: {format: xml}\n",
       "test.yaml:4:23: spec.accessLog.format: unknown format \"xml\" (expected text or json)"},
      {"  nodes: [{name: a, address: host-a}]\n",
       "test.yaml:4:30: spec.nodes[0].address: \"host-a\" is not an IP address"},
      {"  nodes: [{name: a}]\n", "test.yaml:4:11: spec.nodes[0].address: Required value"},
      {"  zone: Zone A\n",
       "test.yaml:4:9: spec.zone: Invalid value: \"Zone A\": a valid label must be an empty "
       "string or consist of alphanumeric characters, '-', '_' or '.', and must start and end "
       "with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used "
       "for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"},
      {"  nodes: [{name: a, address: 10.0.0.1, zone: -b}]\n",
       "test.yaml:4:46: spec.nodes[0].zone: Invalid value: \"-b\": a valid label must be an "
       "empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and "
       "end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex "
       "used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"},
      {"  timeouts: 5s\n", "test.yaml:4:13: spec.timeouts: expected a mapping"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.spec);
    CHECK(only_error(proxy_config(c.spec)) == c.error);
  }
}

TEST_CASE("cluster mode settings: etcd endpoints, prefix, lease and edge") {
  const ProxySettings defaults = load_ok("").proxy;
  CHECK(defaults.etcd.endpoints.empty());
  CHECK(defaults.etcd.prefix == "/registry");
  CHECK(defaults.etcd.lease_ttl == std::chrono::seconds(10));
  CHECK(defaults.etcd.node_grace_period == std::chrono::seconds(40));
  CHECK(defaults.etcd.resync_period == std::chrono::minutes(5));
  CHECK_FALSE(defaults.etcd.edge);
  const ProxySettings proxy =
      load_ok(proxy_config("  etcd:\n"
                           "    endpoints: [http://10.0.0.1:2379, \"10.0.0.2:2379\"]\n"
                           "    prefix: /svcproxy\n"
                           "    leaseTTL: 3s\n"
                           "    nodeGracePeriod: 0s\n"
                           "    advertiseAddress: 127.0.2.1\n"
                           "    edge: true\n"))
          .proxy;
  CHECK(proxy.etcd.endpoints == std::vector<std::string>{"http://10.0.0.1:2379", "10.0.0.2:2379"});
  CHECK(proxy.etcd.prefix == "/svcproxy");
  CHECK(proxy.etcd.lease_ttl == std::chrono::seconds(3));
  CHECK(proxy.etcd.node_grace_period == std::chrono::seconds(0));
  CHECK(proxy.etcd.advertise_address == "127.0.2.1");
  CHECK(proxy.etcd.edge);
  CHECK(only_error(proxy_config("  etcd: {leaseTTL: 1s}\n"))
            .find("etcd.leaseTTL: must be at least 2s") != std::string::npos);
  CHECK(only_error(proxy_config("  etcd: {prefix: registry}\n")).find("etcd.prefix") !=
        std::string::npos);
  CHECK(only_error(proxy_config("  etcd: {advertiseAddress: node-1}\n"))
            .find("is not an IP address") != std::string::npos);
}

TEST_CASE("an invalid ProxyConfig does not add allocation errors on top") {
  const LoadResult result = load(proxy_config("  nodePortRange: nonsense\n") +
                                 "---\napiVersion: v1\nkind: Service\nmetadata: {name: s}\n"
                                 "spec: {type: NodePort, ports: [{port: 80, nodePort: 30080}]}\n");
  CHECK(result.errors.size() == 1);
}

}  // namespace
}  // namespace svcproxy::conf

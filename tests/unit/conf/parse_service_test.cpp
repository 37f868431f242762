#include <doctest/doctest.h>

#include "conf_test_support.hpp"

namespace svcproxy::conf {
namespace {

using testing::load;
using testing::load_ok;
using testing::only_error;

// A Service named "web" whose spec starts on line 5 (each spec line indented two spaces).
std::string service(const std::string& spec) {
  return "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n" + spec;
}

TEST_CASE("a minimal Service gets Kubernetes' defaults") {
  const Snapshot snapshot = load_ok(service("  selector: {app: web}\n  ports: [{port: 80}]\n"));
  REQUIRE(snapshot.services.size() == 1);
  const Service& web = snapshot.services[0];
  CHECK(web.namespace_name == "default");
  CHECK(web.key() == "default/web");
  CHECK(web.type == ServiceType::ClusterIP);
  CHECK(web.selector == Labels{{"app", "web"}});
  CHECK_FALSE(web.headless);
  CHECK_FALSE(web.cluster_ip.empty());
  CHECK(web.session_affinity == SessionAffinity::None);
  CHECK(web.affinity_timeout == std::chrono::seconds(10800));
  CHECK(web.external_traffic_policy == TrafficPolicy::Cluster);
  CHECK_FALSE(web.load_balancing.has_value());
  REQUIRE(web.ports.size() == 1);
  CHECK(web.ports[0].target_port == PortRef{80, ""});
  CHECK(web.ports[0].node_port == 0);
  CHECK(web.ports[0].app_protocol == AppProtocol::Tcp);
  CHECK(web.location.line == 1);
}

TEST_CASE("a named targetPort is kept as a name") {
  const Snapshot snapshot = load_ok(service("  ports: [{port: 80, targetPort: http}]\n"));
  CHECK(snapshot.services[0].ports[0].target_port == PortRef{0, "http"});
}

TEST_CASE("a missing port is an error at the port entry") {
  CHECK(only_error(service("  ports:\n    - name: http\n")) ==
        "test.yaml:6:7: spec.ports[0].port: Required value");
}

TEST_CASE("a Service without ports is an error unless headless") {
  CHECK(only_error(service("  selector: {app: web}\n")) ==
        "test.yaml:5:3: spec.ports: a Service needs at least one port");
  CHECK(load(service("  clusterIP: None\n")).ok());
}

TEST_CASE("port, targetPort and nodePort must be in 1-65535") {
  CHECK(only_error(service("  ports: [{port: 70000}]\n")) ==
        "test.yaml:5:18: spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, "
        "inclusive");
  CHECK(only_error(service("  ports: [{port: 80, targetPort: -1}]\n")) ==
        "test.yaml:5:34: spec.ports[0].targetPort: Invalid value: -1: must be between 1 and 65535, "
        "inclusive");
  CHECK(only_error(service("  type: NodePort\n  ports: [{port: 80, nodePort: 65536}]\n")) ==
        "test.yaml:6:32: spec.ports[0].nodePort: Invalid value: 65536: must be between 1 and "
        "65535, inclusive");
}

// validateServicePort: TCP, UDP and SCTP; svcproxy carries TCP and UDP, and one Service may
// use a port number for both (a DNS Service does).
TEST_CASE("UDP ports load, TCP and UDP may share a number, SCTP is refused clearly") {
  const Snapshot dns = load_ok(
      service("  ports: [{name: dns, port: 53, protocol: UDP}, {name: dns-tcp, port: 53, protocol: "
              "TCP}]\n"));
  REQUIRE(dns.services[0].ports.size() == 2);
  CHECK(dns.services[0].ports[0].transport == Transport::Udp);
  CHECK(dns.services[0].ports[1].transport == Transport::Tcp);
  CHECK(only_error(service("  ports: [{port: 53, protocol: SCTP}]\n")) ==
        "test.yaml:5:32: spec.ports[0].protocol: Unsupported value: \"SCTP\": svcproxy carries "
        "\"TCP\" and \"UDP\"");
  CHECK(only_error(service("  ports: [{port: 53, protocol: QUIC}]\n")) ==
        "test.yaml:5:32: spec.ports[0].protocol: Unsupported value: \"QUIC\": supported values: "
        "\"SCTP\", \"TCP\", \"UDP\"");
  CHECK(only_error(service("  ports: [{name: a, port: 53, protocol: UDP}, {name: b, port: 53, "
                           "protocol: UDP}]\n"))
            .ends_with("Duplicate value: 53/UDP (also spec.ports[0])"));
  CHECK(load(service("  ports: [{port: 53, protocol: TCP}]\n")).ok());
}

TEST_CASE("every port needs a name when there is more than one") {
  const LoadResult result = load(service("  ports:\n    - port: 80\n    - port: 443\n"));
  REQUIRE(result.errors.size() == 2);
  CHECK(result.errors[0].to_string() ==
        "test.yaml:6:7: spec.ports[0].name: Required value: a name is required when a Service has "
        "more than one "
        "port");
  CHECK(result.errors[1].field_path == "spec.ports[1].name");
}

TEST_CASE("port names must be unique DNS labels") {
  CHECK(only_error(
            service("  ports:\n    - {name: http, port: 80}\n    - {name: http, port: 81}\n")) ==
        "test.yaml:7:14: spec.ports[1].name: Duplicate value: \"http\" (also spec.ports[0])");
  CHECK(only_error(service("  ports: [{name: HTTP, port: 80}]\n")) ==
        "test.yaml:5:18: spec.ports[0].name: \"HTTP\" is not a valid port name (a lowercase DNS "
        "label)");
}

TEST_CASE("the same port and protocol twice is an error") {
  CHECK(only_error(service("  ports:\n    - {name: a, port: 80}\n    - {name: b, port: 80}\n")) ==
        "test.yaml:7:23: spec.ports[1].port: Duplicate value: 80/TCP (also spec.ports[0])");
}

TEST_CASE("sessionAffinity and its timeout") {
  const Snapshot snapshot =
      load_ok(service("  ports: [{port: 80}]\n  sessionAffinity: ClientIP\n"
                      "  sessionAffinityConfig: {clientIP: {timeoutSeconds: 60}}\n"));
  CHECK(snapshot.services[0].session_affinity == SessionAffinity::ClientIP);
  CHECK(snapshot.services[0].affinity_timeout == std::chrono::seconds(60));
  const std::string config =
      "  ports: [{port: 80}]\n  sessionAffinity: ClientIP\n"
      "  sessionAffinityConfig: {clientIP: {timeoutSeconds: ";
  CHECK(only_error(service(config + "0}}\n")) ==
        "test.yaml:7:54: spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 0: "
        "must be between 1 and 86400, inclusive");
  CHECK(only_error(service(config + "86401}}\n"))
            .ends_with("Invalid value: 86401: must be between 1 and 86400, inclusive"));
  CHECK(only_error(service("  ports: [{port: 80}]\n  sessionAffinity: Sticky\n")) ==
        "test.yaml:6:20: spec.sessionAffinity: unknown sessionAffinity \"Sticky\" (expected None "
        "or ClientIP)");
}

TEST_CASE("nodePort is not allowed on a ClusterIP Service") {
  CHECK(only_error(service("  ports: [{port: 80, nodePort: 30080}]\n")) ==
        "test.yaml:5:32: spec.ports[0].nodePort: nodePort is not allowed on a ClusterIP Service");
}

TEST_CASE("Service names are RFC 1035 labels") {
  for (const char* bad : {"1web", "Web", "web.example", "web_1", "-web"}) {
    const std::string yaml = std::string("apiVersion: v1\nkind: Service\nmetadata:\n  name: '") +
                             bad + "'\nspec:\n  ports: [{port: 80}]\n";
    CAPTURE(bad);
    CHECK(only_error(yaml).starts_with("test.yaml:4:9: metadata.name: \"" + std::string(bad) +
                                       "\" is not a valid name: a DNS label (RFC 1035)"));
  }
  CHECK(only_error("apiVersion: v1\nkind: Service\nmetadata: {}\nspec: {ports: [{port: 80}]}\n") ==
        "test.yaml:3:11: metadata.name: Required value");
}

TEST_CASE("type must be ClusterIP, NodePort, LoadBalancer or ExternalName") {
  CHECK(only_error(service("  type: Ingress\n  ports: [{port: 80}]\n")) ==
        "test.yaml:5:9: spec.type: unknown type \"Ingress\" (expected ClusterIP, NodePort, "
        "LoadBalancer or ExternalName)");
}

// ValidateService's ExternalName case; nothing is allocated for it (allocClusterIPs).
TEST_CASE("an ExternalName Service is a DNS name: no ports needed, no ClusterIP, no NodePort") {
  const Snapshot snapshot = load_ok(
      "apiVersion: v1\nkind: Service\nmetadata: {name: db}\nspec:\n"
      "  type: ExternalName\n  externalName: db.example.com.\n");
  REQUIRE(snapshot.services.size() == 1);
  CHECK(snapshot.services[0].type == ServiceType::ExternalName);
  CHECK(snapshot.services[0].external_name == "db.example.com");
  CHECK(snapshot.services[0].cluster_ip.empty());
  const std::string head =
      "apiVersion: v1\nkind: Service\nmetadata: {name: db}\nspec:\n  type: ExternalName\n";
  CHECK(only_error(head) == "test.yaml:5:3: spec.externalName: Required value");
  CHECK(only_error(head + "  externalName: Not_A_Name\n")
            .starts_with("test.yaml:6:17: spec.externalName: Invalid value: \"Not_A_Name\": a "
                         "lowercase RFC 1123 subdomain must consist of"));
  CHECK(only_error(head + "  externalName: db.example.com\n  clusterIP: 127.96.0.5\n") ==
        "test.yaml:7:14: spec.clusterIP: Forbidden: may not be set for ExternalName services");
  CHECK(only_error(head + "  externalName: db.example.com\n  ports: [{port: 5432, nodePort: "
                          "30432}]\n") ==
        "test.yaml:7:34: spec.ports[0].nodePort: Forbidden: may not be used when `type` is "
        "'ExternalName'");
}

TEST_CASE("appProtocol: http, https and kubernetes.io/ws at L7, tcp at L4, in any case") {
  const Snapshot snapshot = load_ok(
      service("  ports:\n    - {name: a, port: 80, appProtocol: HTTP}\n    - {name: b, port: 81, "
              "appProtocol: tcp}\n    - {name: c, port: 82, appProtocol: kubernetes.io/ws}\n"));
  CHECK(snapshot.services[0].ports[0].app_protocol == AppProtocol::Http);
  CHECK(snapshot.services[0].ports[0].app_protocol_name == "HTTP");
  CHECK(snapshot.services[0].ports[1].app_protocol == AppProtocol::Tcp);
  CHECK(snapshot.services[0].ports[2].app_protocol == AppProtocol::Http);
}

// Kubernetes' validateServicePort: appProtocol is a qualified name (ValidateQualifiedName).
TEST_CASE("any appProtocol Kubernetes takes loads; others than http, https, ws are L4, warned") {
  const LoadResult result = load(service(
      "  ports:\n    - {name: a, port: 80, appProtocol: kubernetes.io/h2c}\n"
      "    - {name: b, port: 81, appProtocol: grpc}\n    - {name: c, port: 82, appProtocol: "
      "example.com/custom}\n"));
  REQUIRE(result.ok());
  for (const auto& port : result.snapshot->services[0].ports)
    CHECK(port.app_protocol == AppProtocol::Tcp);
  REQUIRE(result.warnings.size() == 3);
  CHECK(result.warnings[0].to_string() ==
        "test.yaml:6:40: spec.ports[0].appProtocol: appProtocol \"kubernetes.io/h2c\" is relayed "
        "at L4 (svcproxy proxies http, https and kubernetes.io/ws at L7)");
  CHECK(only_error(service("  ports: [{port: 80, appProtocol: my proto}]\n")) ==
        "test.yaml:5:35: spec.ports[0].appProtocol: Invalid value: \"my proto\": name part must "
        "consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
        "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
        "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')");
}

// Kubernetes' SetDefaults_Service: a targetPort of 0 or "" is the port.
TEST_CASE("targetPort 0 or \"\" is the port itself") {
  const Snapshot snapshot = load_ok(service(
      "  ports:\n    - {name: a, port: 80, targetPort: 0}\n    - {name: b, port: 81, targetPort: "
      "\"\"}\n"));
  CHECK(snapshot.services[0].ports[0].target_port == PortRef{80, ""});
  CHECK(snapshot.services[0].ports[1].target_port == PortRef{81, ""});
}

// Kubernetes' defaulting drops sessionAffinityConfig when sessionAffinity is None.
TEST_CASE("sessionAffinityConfig is ignored without ClientIP affinity") {
  const Snapshot snapshot = load_ok(
      service("  ports: [{port: 80}]\n  sessionAffinityConfig: {clientIP: {timeoutSeconds: 0}}\n"));
  CHECK(snapshot.services[0].session_affinity == SessionAffinity::None);
}

// validateServiceExternalTrafficPolicy, validateServiceInternalTrafficFieldsValue and
// ValidateService's allocateLoadBalancerNodePorts rule, with Kubernetes' messages.
TEST_CASE("traffic policies and allocateLoadBalancerNodePorts follow Kubernetes' rules") {
  CHECK(only_error(service("  ports: [{port: 80}]\n  externalTrafficPolicy: Local\n")) ==
        "test.yaml:6:26: spec.externalTrafficPolicy: Invalid value: \"Local\": may only be set for "
        "externally-accessible services");
  CHECK(load(service("  ports: [{port: 80}]\n  externalTrafficPolicy: Local\n"
                     "  externalIPs: [192.0.2.1]\n"))
            .ok());  // (externalIPs itself is warned about: not honoured)
  CHECK(only_error(service("  ports: [{port: 80}]\n  allocateLoadBalancerNodePorts: false\n")) ==
        "test.yaml:6:34: spec.allocateLoadBalancerNodePorts: Forbidden: may only be used when "
        "`type` is 'LoadBalancer'");
  CHECK(only_error(service("  ports: [{port: 80}]\n  internalTrafficPolicy: Nearby\n")) ==
        "test.yaml:6:26: spec.internalTrafficPolicy: unknown internalTrafficPolicy \"Nearby\" "
        "(expected Cluster or Local)");
  const Snapshot snapshot =
      load_ok(service("  type: LoadBalancer\n  ports: [{port: 80}]\n  internalTrafficPolicy: "
                      "Local\n  allocateLoadBalancerNodePorts: false\n"));
  CHECK(snapshot.services[0].internal_traffic_policy == TrafficPolicy::Local);
  CHECK_FALSE(snapshot.services[0].allocate_load_balancer_node_ports);
}

// ValidateServiceClusterIPsRelatedFields and initIPFamilyFields' family checks on the
// default serviceCIDR: a single-stack IPv4 cluster (tests/unit/conf/ip_families_test.cpp has
// IPv6 and dual-stack ones).
TEST_CASE("ipFamilies, ipFamilyPolicy and clusterIPs a single-stack IPv4 cluster can satisfy") {
  CHECK(load(service("  ports: [{port: 80}]\n  ipFamilies: [IPv4]\n  ipFamilyPolicy: "
                     "PreferDualStack\n"))
            .ok());
  CHECK(only_error(service("  ports: [{port: 80}]\n  ipFamilies: [IPv6]\n")) ==
        "test.yaml:6:16: spec.ipFamilies[0]: Invalid value: \"IPv6\": not configured on this "
        "cluster");
  CHECK(only_error(service("  ports: [{port: 80}]\n  ipFamilyPolicy: RequireDualStack\n")) ==
        "test.yaml:6:19: spec.ipFamilyPolicy: Invalid value: \"RequireDualStack\": this cluster "
        "is not configured for dual-stack services");
  CHECK(only_error(service("  ports: [{port: 80}]\n  ipFamilies: [IPv4, IPv5]\n")) ==
        "test.yaml:6:22: spec.ipFamilies[1]: Unsupported value: \"IPv5\": supported values: "
        "\"IPv4\", \"IPv6\"");
  CHECK(only_error(service("  ports: [{port: 80}]\n  clusterIPs: [127.96.0.9]\n")) ==
        "test.yaml:6:15: spec.clusterIPs: Invalid value: must be empty when `clusterIP` is not "
        "specified");
  CHECK(load(service("  ports: [{port: 80}]\n  clusterIP: 127.96.0.9\n  clusterIPs: "
                     "[127.96.0.9]\n"))
            .ok());
}

// ValidateLabels (apimachinery): keys are qualified names, values label values; errors at
// the map's path.
TEST_CASE("selector keys and values follow Kubernetes' label syntax") {
  CHECK(only_error(service("  selector: {app: web/v1}\n  ports: [{port: 80}]\n")) ==
        "test.yaml:5:19: spec.selector: Invalid value: \"web/v1\": a valid label must be an "
        "empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and "
        "end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex "
        "used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')");
  CHECK(only_error(
            service("  selector: {app: " + std::string(64, 'a') + "}\n  ports: [{port: 80}]\n"))
            .ends_with(": must be no more than 63 characters"));
  CHECK(only_error(service("  selector: {Example.com/app: web}\n  ports: [{port: 80}]\n"))
            .starts_with("test.yaml:5:31: spec.selector: Invalid value: \"Example.com/app\": "
                         "prefix part a lowercase RFC 1123 subdomain must consist of"));
  CHECK(load(service("  selector: {app.kubernetes.io/name: web, tier: \"\"}\n  ports: [{port: "
                     "80}]\n"))
            .ok());
}

TEST_CASE("externalTrafficPolicy is Cluster or Local") {
  CHECK(
      load_ok(service("  type: NodePort\n  externalTrafficPolicy: Local\n  ports: [{port: 80}]\n"))
          .services[0]
          .external_traffic_policy == TrafficPolicy::Local);
  CHECK(only_error(service("  externalTrafficPolicy: local\n  ports: [{port: 80}]\n")) ==
        "test.yaml:5:26: spec.externalTrafficPolicy: unknown externalTrafficPolicy \"local\" "
        "(expected Cluster or Local)");
}

TEST_CASE("the load-balancing annotation overrides the proxy default") {
  const std::string head =
      "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  annotations:\n";
  const std::string spec = "spec: {ports: [{port: 80}]}\n";
  const Snapshot snapshot =
      load_ok(head + "    svcproxy.io/load-balancing: least-connections\n" + spec);
  CHECK(snapshot.services[0].load_balancing == LoadBalancing::LeastConnections);
  CHECK(effective_load_balancing(snapshot.services[0], snapshot.proxy) ==
        LoadBalancing::LeastConnections);
  CHECK(only_error(head + "    svcproxy.io/load-balancing: random\n" + spec) ==
        "test.yaml:6:33: metadata.annotations.svcproxy.io/load-balancing: unknown load-balancing "
        "policy \"random\" (expected round-robin or least-connections)");
}

TEST_CASE("clusterIP: None makes a headless Service, only of type ClusterIP") {
  const Snapshot snapshot = load_ok(service("  clusterIP: None\n  ports: [{port: 80}]\n"));
  CHECK(snapshot.services[0].headless);
  CHECK(snapshot.services[0].cluster_ip.empty());
  CHECK(only_error(service("  type: NodePort\n  clusterIP: None\n  ports: [{port: 80}]\n")) ==
        "test.yaml:6:14: spec.clusterIP: clusterIP None (headless) is only valid for ClusterIP "
        "Services");
  CHECK(only_error(service("  clusterIP: 10.0.0.300\n  ports: [{port: 80}]\n")) ==
        "test.yaml:5:14: spec.clusterIP: \"10.0.0.300\" is not an IP address");
}

TEST_CASE("LoadBalancer addresses come from loadBalancerIP and status, deduplicated") {
  const Snapshot snapshot =
      load_ok(service("  type: LoadBalancer\n  loadBalancerIP: 127.0.2.1\n  ports: [{port: 80}]\n"
                      "status:\n  loadBalancer:\n    ingress: [{ip: 127.0.2.1}, {ip: '::1'}, "
                      "{hostname: lb.example}]\n"));
  CHECK(snapshot.services[0].load_balancer_ips == std::vector<std::string>{"127.0.2.1", "::1"});
  CHECK(only_error(service("  type: LoadBalancer\n  ports: [{port: 80}]\nstatus:\n  loadBalancer:\n"
                           "    ingress: [{ip: lb.example}]\n")) ==
        "test.yaml:9:20: status.loadBalancer.ingress[0].ip: \"lb.example\" is not an IP address");
}

TEST_CASE("wrong types are reported with what was expected") {
  CHECK(only_error("apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: 3\n") ==
        "test.yaml:4:7: spec: expected a mapping");
  CHECK(only_error(service("  ports: 80\n")) == "test.yaml:5:10: spec.ports: expected a list");
  CHECK(only_error(service("  ports: [{port: http}]\n")) ==
        "test.yaml:5:18: spec.ports[0].port: expected an integer, got \"http\"");
  CHECK(only_error(service("  ports: [{port: '80'}]\n")) ==
        "test.yaml:5:18: spec.ports[0].port: expected an integer, got \"80\"");
  CHECK(only_error(service("  selector: [app]\n  ports: [{port: 80}]\n")) ==
        "test.yaml:5:13: spec.selector: expected a mapping");
  CHECK(only_error(service("  ports: [{port: 80, targetPort: my_port}]\n"))
            .starts_with("test.yaml:5:34: spec.ports[0].targetPort: \"my_port\" is neither a port "
                         "number nor a valid port name"));
}

TEST_CASE("unknown fields are ignored, as kubectl manifests carry many") {
  const LoadResult result = load(service("  ports: [{port: 80}]\n  someFutureField: x\n"));
  CHECK(result.ok());
  CHECK(result.warnings.empty());
}

TEST_CASE("fields Kubernetes acts on and svcproxy does not load with one warning each") {
  const LoadResult result =
      load(service("  type: LoadBalancer\n  ports: [{port: 80}]\n  loadBalancerSourceRanges: "
                   "[10.0.0.0/8]\n  trafficDistribution: PreferClose\n"));
  REQUIRE(result.ok());
  REQUIRE(result.warnings.size() == 1);  // trafficDistribution is honoured
  CHECK(result.warnings[0].to_string() ==
        "test.yaml:7:29: spec.loadBalancerSourceRanges: loadBalancerSourceRanges is not "
        "honoured: svcproxy does not filter clients by source address");
  CHECK(only_error(service("  ports: [{port: 80}]\n  trafficDistribution: Nearest\n")) ==
        "test.yaml:6:24: spec.trafficDistribution: Unsupported value: \"Nearest\": supported "
        "values: \"PreferClose\"");
}

TEST_CASE("trafficDistribution PreferClose is read; absent, traffic goes to every zone") {
  const LoadResult close =
      load(service("  ports: [{port: 80}]\n  trafficDistribution: PreferClose\n"));
  REQUIRE(close.ok());
  CHECK(close.warnings.empty());
  CHECK(close.snapshot->services[0].prefer_close);
  const LoadResult plain = load(service("  ports: [{port: 80}]\n"));
  REQUIRE(plain.ok());
  CHECK_FALSE(plain.snapshot->services[0].prefer_close);
}

TEST_CASE("all errors of one Service are collected") {
  const LoadResult result = load(service(
      "  type: Bogus\n  ports:\n    - {port: 0, protocol: SCTP}\n    - {name: UPPER, port: 80}\n"));
  CHECK(result.errors.size() == 5);
}

}  // namespace
}  // namespace svcproxy::conf

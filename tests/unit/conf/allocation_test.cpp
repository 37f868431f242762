#include "conf/allocation.hpp"

#include <doctest/doctest.h>

#include <set>

#include "conf_test_support.hpp"

namespace svcproxy::conf {
namespace {

using testing::load_ok;
using testing::only_error;

Service make_service(const std::string& name, ServiceType type = ServiceType::ClusterIP,
                     int node_port = 0) {
  Service service;
  service.name = name;
  service.type = type;
  ServicePort port;
  port.port = 80;
  port.node_port = node_port;
  service.ports.push_back(port);
  return service;
}

// "s0", "s1", ...: appended, not `"s" + std::to_string(i)`, on which GCC 12 at -O3 warns
// (-Wstringop-overflow, a false positive in libstdc++'s operator+).
std::string numbered(std::string prefix, int i) {
  prefix += std::to_string(i);
  return prefix;
}

Ipv4Cidr cidr(const char* text) {
  return *parse_ipv4_cidr(text);
}

ServiceCidr ranges(const char* text) {
  return std::get<ServiceCidr>(parse_service_cidr(text));
}

TEST_CASE("the reserved NodePort band follows Kubernetes: min(max(16, size/32), 128)") {
  CHECK(reserved_node_port_band(2768) == 86);  // 30000-30085 by default
  CHECK(reserved_node_port_band(100) == 16);
  CHECK(reserved_node_port_band(10000) == 128);
}

TEST_CASE("automatic NodePorts come from the upper band") {
  ServiceList services;
  for (int i = 0; i < 50; ++i)
    services.push_back(make_service(numbered("s", i), ServiceType::NodePort));
  Diagnostics errors;
  allocate_node_ports(services, PortRange{}, errors);
  CHECK(errors.empty());
  std::set<int> ports;
  for (const auto& service : services) {
    CHECK(service.ports[0].node_port >= 30086);
    CHECK(service.ports[0].node_port <= 32767);
    ports.insert(service.ports[0].node_port);
  }
  CHECK(ports.size() == services.size());
}

TEST_CASE("the low band is used only when the upper band is full") {
  // 40 ports: 16 reserved (30000-30015), 24 in the upper band.
  const PortRange range{30000, 30039};
  ServiceList services;
  for (int i = 0; i < 30; ++i)
    services.push_back(make_service(numbered("s", i), ServiceType::NodePort));
  Diagnostics errors;
  allocate_node_ports(services, range, errors);
  CHECK(errors.empty());
  int low = 0;
  for (const auto& service : services)
    low += service.ports[0].node_port < 30016 ? 1 : 0;
  CHECK(low == 6);
  for (int i = 30; i < 41; ++i)
    services.push_back(make_service(numbered("s", i), ServiceType::NodePort));
  for (std::size_t i = 0; i < services.size(); ++i)
    services.mutate(i).ports[0].node_port = 0;
  allocate_node_ports(services, range, errors);  // 41 ports wanted, 40 exist
  REQUIRE(errors.size() == 1);
  CHECK(errors.back().message == "nodePortRange has no free port left");
}

TEST_CASE("explicit NodePorts may use the low band and are never moved") {
  ServiceList services = {make_service("auto", ServiceType::NodePort),
                          make_service("fixed", ServiceType::LoadBalancer, 30000)};
  Diagnostics errors;
  allocate_node_ports(services, PortRange{}, errors);
  CHECK(errors.empty());
  CHECK(services[1].ports[0].node_port == 30000);
  CHECK(services[0].ports[0].node_port >= 30086);
}

TEST_CASE("allocation is deterministic and independent of file order") {
  const std::string a =
      "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {type: NodePort, ports: [{port: "
      "80}]}\n";
  const std::string b =
      "apiVersion: v1\nkind: Service\nmetadata: {name: b}\nspec: {type: LoadBalancer, ports: "
      "[{port: 80}]}\n";
  const Snapshot first = load_ok(a + "---\n" + b);
  const Snapshot again = load_ok(a + "---\n" + b);
  const Snapshot swapped = load_ok(b + "---\n" + a);
  CHECK(first.services[0].cluster_ip == again.services[0].cluster_ip);
  CHECK(first.services[0].ports[0].node_port == again.services[0].ports[0].node_port);
  CHECK(first.services[0].cluster_ip == swapped.services[1].cluster_ip);
  CHECK(first.services[1].ports[0].node_port == swapped.services[0].ports[0].node_port);
  CHECK(first.services[0].cluster_ip != first.services[1].cluster_ip);
}

TEST_CASE("an address stays when an unrelated Service is added") {
  const std::string a =
      "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {ports: [{port: 80}]}\n";
  const std::string other =
      "apiVersion: v1\nkind: Service\nmetadata: {name: aa}\nspec: {ports: [{port: 80}]}\n";
  CHECK(load_ok(a).services[0].cluster_ip == load_ok(other + "---\n" + a).services[1].cluster_ip);
}

TEST_CASE("an explicit nodePort used twice names both services") {
  const std::string text = only_error(R"(apiVersion: v1
kind: Service
metadata: {name: web-nodeport}
spec: {type: NodePort, ports: [{port: 80, nodePort: 30080}]}
---
apiVersion: v1
kind: Service
metadata: {name: other, namespace: dev}
spec:
  type: NodePort
  ports:
    - port: 81
      nodePort: 30080
)");
  CHECK(text ==
        "test.yaml:13:17: spec.ports[0].nodePort: nodePort 30080 is already allocated by "
        "default/web-nodeport");
}

// As kube-apiserver says it: the object is named before the field.
TEST_CASE("errors name their object for the user, as Kubernetes does") {
  const LoadResult result = testing::load(
      "apiVersion: v1\nkind: Service\nmetadata: {name: svc-one}\nspec: {type: NodePort, ports: "
      "[{port: 80, nodePort: 30080}]}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: "
      "svc-two}\nspec: {type: NodePort, ports: [{port: 80, nodePort: 30080}]}\n");
  REQUIRE(result.errors.size() == 1);
  CHECK(result.errors[0].describe() ==
        "test.yaml:9:53: Service \"svc-two\" is invalid: spec.ports[0].nodePort: nodePort 30080 "
        "is already allocated by default/svc-one");
  const LoadResult parse =
      testing::load("apiVersion: v1\nkind: Pod\nmetadata: {name: web-1}\nstatus: {phase: Done}\n");
  REQUIRE(parse.errors.size() == 1);
  CHECK(parse.errors[0].describe().starts_with(
      "test.yaml:4:17: Pod \"web-1\" is invalid: status.phase: unknown phase \"Done\""));
}

// Kubernetes' initNodePorts: "don't allocate new ports, but do respect specific requests".
TEST_CASE("allocateLoadBalancerNodePorts false allocates none but keeps a written one") {
  const Snapshot snapshot = load_ok(
      "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  type: LoadBalancer\n"
      "  allocateLoadBalancerNodePorts: false\n  ports:\n  - {name: a, port: 80}\n"
      "  - {name: b, port: 81, nodePort: 30081}\n");
  CHECK(snapshot.services[0].ports[0].node_port == 0);
  CHECK(snapshot.services[0].ports[1].node_port == 30081);
}

TEST_CASE("an explicit nodePort outside the range is an error") {
  CHECK(only_error("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  type: NodePort\n  "
                   "ports: [{port: 80, nodePort: 8080}]\n") ==
        "test.yaml:6:32: spec.ports[0].nodePort: nodePort 8080 is outside the nodePortRange "
        "30000-32767");
}

TEST_CASE("ClusterIPs skip the network and broadcast addresses") {
  // A /29 has 6 usable addresses; all of them fall in the reserved band, used as a fallback.
  ServiceList services;
  for (int i = 0; i < 6; ++i)
    services.push_back(make_service(numbered("s", i)));
  Diagnostics errors;
  allocate_cluster_ips(services, ranges("10.0.0.0/29"), errors);
  CHECK(errors.empty());
  std::set<std::string> addresses;
  for (const auto& service : services)
    addresses.insert(service.cluster_ip);
  CHECK(addresses == std::set<std::string>{"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4",
                                           "10.0.0.5", "10.0.0.6"});
  services.push_back(make_service("seventh"));
  for (std::size_t i = 0; i < services.size(); ++i)
    services.mutate(i).cluster_ip.clear();
  allocate_cluster_ips(services, ranges("10.0.0.0/29"), errors);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].message == "serviceCIDR 10.0.0.0/29 has no free address left");
}

TEST_CASE("automatic ClusterIPs avoid the low band kept for explicit ones") {
  ServiceList services;
  for (int i = 0; i < 20; ++i)
    services.push_back(make_service(numbered("s", i)));
  Diagnostics errors;
  allocate_cluster_ips(services, ranges("127.96.0.0/12"), errors);
  CHECK(errors.empty());
  for (const auto& service : services) {
    const auto address = *parse_ipv4(service.cluster_ip);
    CHECK(address > *parse_ipv4("127.96.1.0"));
    CHECK(address < *parse_ipv4("127.111.255.255"));
  }
}

TEST_CASE("explicit clusterIPs: outside the CIDR or used twice") {
  const std::string head = "apiVersion: v1\nkind: Service\nmetadata: {name: ";
  CHECK(only_error(head + "a}\nspec: {clusterIP: 10.0.0.1, ports: [{port: 80}]}\n") ==
        "test.yaml:4:19: spec.clusterIP: clusterIP 10.0.0.1 is not a usable address of serviceCIDR "
        "127.96.0.0/12");
  CHECK(only_error(head + "a}\nspec: {clusterIP: 127.96.0.0, ports: [{port: 80}]}\n")
            .ends_with("is not a usable address of serviceCIDR 127.96.0.0/12"));
  CHECK(only_error(head + "a}\nspec: {clusterIP: 127.111.255.255, ports: [{port: 80}]}\n")
            .ends_with("is not a usable address of serviceCIDR 127.96.0.0/12"));
  CHECK(only_error(head + "a}\nspec: {clusterIP: 127.96.0.10, ports: [{port: 80}]}\n---\n" + head +
                   "b}\nspec: {clusterIP: 127.96.0.10, ports: [{port: 80}]}\n") ==
        "test.yaml:9:19: spec.clusterIP: clusterIP 127.96.0.10 is already allocated by default/a");
}

TEST_CASE("the ProxyConfig's CIDR and range are used") {
  const Snapshot snapshot = load_ok(R"(apiVersion: svcproxy.io/v1
kind: ProxyConfig
spec: {serviceCIDR: 10.96.0.0/24, nodePortRange: 40000-40099}
---
apiVersion: v1
kind: Service
metadata: {name: s}
spec: {type: NodePort, ports: [{port: 80}]}
)");
  CHECK(snapshot.services[0].cluster_ip.starts_with("10.96.0."));
  CHECK(snapshot.services[0].ports[0].node_port >= 40016);
  CHECK(snapshot.services[0].ports[0].node_port <= 40099);
}

TEST_CASE("headless Services get no ClusterIP; ClusterIP Services no NodePort") {
  const Snapshot snapshot = load_ok(
      "apiVersion: v1\nkind: Service\nmetadata: {name: h}\nspec: {clusterIP: None, ports: [{port: "
      "80}]}\n");
  CHECK(snapshot.services[0].cluster_ip.empty());
  CHECK(snapshot.services[0].ports[0].node_port == 0);
}

TEST_CASE("pools smaller than their reserved band pick inside the pool, as the file path does") {
  // A /28 has 14 usable addresses and 31000-31009 ten ports: both are all band (16).
  const Ipv4Cidr small = cidr("127.99.1.0/28");
  const PortRange ports{31000, 31009};
  std::set<std::uint32_t> addresses;
  std::set<int> node_ports;
  for (int i = 0; i < 14; ++i) {
    const auto address = pick_cluster_ip(small, numbered("default/s", i),
                                         [&](std::uint32_t a) { return addresses.contains(a); });
    REQUIRE(address);
    CHECK(*address > small.network);
    CHECK(*address < small.network + 15);
    addresses.insert(*address);
  }
  CHECK_FALSE(pick_cluster_ip(small, "default/full",
                              [&](std::uint32_t a) { return addresses.contains(a); }));
  for (int i = 0; i < 10; ++i) {
    const auto port = pick_node_port(ports, numbered("default/s", i),
                                     [&](int p) { return node_ports.contains(p); });
    REQUIRE(port);
    CHECK(ports.contains(*port));
    node_ports.insert(*port);
  }
  CHECK_FALSE(pick_node_port(ports, "default/full", [&](int p) { return node_ports.contains(p); }));

  ServiceList services;
  services.push_back(make_service("s0"));
  Diagnostics errors;
  allocate_cluster_ips(services, ranges("127.99.1.0/28"), errors);
  CHECK(*parse_ipv4(services[0].cluster_ip) ==
        *pick_cluster_ip(small, services[0].key(), [](std::uint32_t) { return false; }));
}

TEST_CASE("stable_hash is FNV-1a") {
  CHECK(stable_hash("") == 14695981039346656037ULL);
  CHECK(stable_hash("a") == 0xaf63dc4c8601ec8cULL);
}

}  // namespace
}  // namespace svcproxy::conf

namespace svcproxy::conf {
namespace {

const std::string kLocalBalancer =
    "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  type: LoadBalancer\n"
    "  externalTrafficPolicy: Local\n";

// Kubernetes' allocHealthCheckNodePort (pkg/registry/core/service/storage/alloc.go): a
// LoadBalancer with externalTrafficPolicy Local gets one from the NodePort range, distinct
// from every nodePort; no other Service gets one.
TEST_CASE("healthCheckNodePort: allocated for LoadBalancer + Local from the NodePort pool") {
  const Snapshot snapshot =
      load_ok(kLocalBalancer + "  ports: [{name: a, port: 80}, {name: b, port: 81}]\n");
  const Service& web = snapshot.services[0];
  CHECK(PortRange{}.contains(web.health_check_node_port));
  CHECK(web.health_check_node_port != web.ports[0].node_port);
  CHECK(web.health_check_node_port != web.ports[1].node_port);
  const Snapshot cluster_policy = load_ok(
      "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  type: LoadBalancer\n"
      "  ports: [{port: 80}]\n");
  CHECK(cluster_policy.services[0].health_check_node_port == 0);
  // needsHCNodePort does not look at allocateLoadBalancerNodePorts.
  const Snapshot no_node_ports =
      load_ok(kLocalBalancer + "  allocateLoadBalancerNodePorts: false\n  ports: [{port: 80}]\n");
  CHECK(no_node_ports.services[0].ports[0].node_port == 0);
  CHECK(no_node_ports.services[0].health_check_node_port != 0);
}

TEST_CASE("healthCheckNodePort: a written one is kept, checked against the range and holders") {
  CHECK(load_ok(kLocalBalancer + "  healthCheckNodePort: 30555\n  ports: [{port: 80}]\n")
            .services[0]
            .health_check_node_port == 30555);
  CHECK(only_error(kLocalBalancer + "  healthCheckNodePort: 8080\n  ports: [{port: 80}]\n") ==
        "test.yaml:7:24: spec.healthCheckNodePort: healthCheckNodePort 8080 is outside the "
        "nodePortRange 30000-32767");
  CHECK(only_error("apiVersion: v1\nkind: Service\nmetadata: {name: first}\nspec: {type: NodePort, "
                   "ports: [{port: 80, nodePort: 30555}]}\n---\n" +
                   kLocalBalancer + "  healthCheckNodePort: 30555\n  ports: [{port: 80}]\n") ==
        "test.yaml:12:24: spec.healthCheckNodePort: healthCheckNodePort 30555 is already "
        "allocated by default/first");
}

// validateServiceExternalTrafficPolicy (pkg/apis/core/validation/validation.go).
TEST_CASE("healthCheckNodePort: only on a LoadBalancer with externalTrafficPolicy Local") {
  CHECK(only_error("apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  type: "
                   "LoadBalancer\n  healthCheckNodePort: 30555\n  ports: [{port: 80}]\n") ==
        "test.yaml:6:24: spec.healthCheckNodePort: Invalid value: 30555: may only be set when "
        "`type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'");
  CHECK(only_error("apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  type: "
                   "NodePort\n  externalTrafficPolicy: Local\n  healthCheckNodePort: 30555\n  "
                   "ports: [{port: 80}]\n")
            .ends_with("may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` "
                       "is 'Local'"));
  CHECK(only_error(kLocalBalancer + "  healthCheckNodePort: 70000\n  ports: [{port: 80}]\n") ==
        "test.yaml:7:24: spec.healthCheckNodePort: Invalid value: 70000: must be between 1 and "
        "65535, inclusive");
  // No longer "not honoured": no warning.
  const LoadResult result =
      testing::load(kLocalBalancer + "  healthCheckNodePort: 30555\n  ports: [{port: 80}]\n");
  CHECK(result.warnings.empty());
}

}  // namespace
}  // namespace svcproxy::conf

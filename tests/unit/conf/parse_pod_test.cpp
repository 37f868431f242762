#include <doctest/doctest.h>

#include "conf_test_support.hpp"

namespace svcproxy::conf {
namespace {

using testing::load;
using testing::load_ok;
using testing::only_error;

TEST_CASE("a Pod reads labels, podIP, nodeName and container ports") {
  const Snapshot snapshot = load_ok(R"(apiVersion: v1
kind: Pod
metadata:
  name: web-1.example
  namespace: dev
  labels: {app: web, tier: frontend}
spec:
  nodeName: node-a
  containers:
    - name: nginx
      ports:
        - {name: http, containerPort: 8080}
        - containerPort: 9090
status:
  podIP: 127.0.1.1
)");
  REQUIRE(snapshot.pods.size() == 1);
  const Pod& pod = snapshot.pods[0];
  CHECK(pod.key() == "dev/web-1.example");
  CHECK(pod.labels == Labels{{"app", "web"}, {"tier", "frontend"}});
  CHECK(pod.pod_ip == "127.0.1.1");
  CHECK(pod.node_name == "node-a");
  REQUIRE(pod.containers.size() == 1);
  REQUIRE(pod.containers[0].ports.size() == 2);
  CHECK(pod.containers[0].ports[0].name == "http");
  CHECK(pod.containers[0].ports[0].container_port == 8080);
  CHECK(pod.containers[0].ports[1].name.empty());
  CHECK(pod.owner_deployment.empty());
}

TEST_CASE("podIP may be IPv4 or IPv6 and is optional") {
  CHECK(load_ok("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nstatus: {podIP: 'fd00::1'}\n")
            .pods[0]
            .pod_ip == "fd00::1");
  CHECK(load_ok("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n").pods[0].pod_ip.empty());
}

TEST_CASE("a podIP that is not an IP is an error") {
  CHECK(only_error("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nstatus:\n  podIP: 127.0.1\n") ==
        "test.yaml:5:10: status.podIP: \"127.0.1\" is not an IP address");
  CHECK(only_error("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nstatus: {podIP: web-1}\n") ==
        "test.yaml:4:17: status.podIP: \"web-1\" is not an IP address");
}

TEST_CASE("Pod names are RFC 1123 subdomains; namespaces are labels") {
  CHECK(load("apiVersion: v1\nkind: Pod\nmetadata: {name: 1-web.a}\n").ok());
  CHECK(only_error("apiVersion: v1\nkind: Pod\nmetadata: {name: Web_1}\n")
            .starts_with("test.yaml:3:18: metadata.name: \"Web_1\" is not a valid name: a DNS "
                         "subdomain (RFC 1123)"));
  CHECK(only_error("apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: Dev}\n") ==
        "test.yaml:3:32: metadata.namespace: \"Dev\" is not a valid namespace (a lowercase DNS "
        "label, at most 63 characters)");
}

TEST_CASE("containerPort must be present and in 1-65535; port names are IANA names") {
  const std::string head = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n";
  CHECK(only_error(head + "    - ports: [{containerPort: 70000}]\n") ==
        "test.yaml:6:31: spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be "
        "between 1 "
        "and 65535, inclusive");
  CHECK(only_error(head + "    - ports: [{name: http}]\n") ==
        "test.yaml:6:15: spec.containers[0].ports[0].containerPort: Required value");
  CHECK(only_error(head + "    - ports: [{name: a-very-long-port-name, containerPort: 80}]\n")
            .starts_with("test.yaml:6:22: spec.containers[0].ports[0].name: \"a-very-long-port-"
                         "name\" is neither a port number nor a valid port name"));
  CHECK(only_error(head + "    - ports: [{name: http, containerPort: 80}]\n"
                          "    - ports: [{name: http, containerPort: 81}]\n") ==
        "test.yaml:7:22: spec.containers[1].ports[0].name: Duplicate value: \"http\" (also "
        "spec.containers[0].ports[0].name)");
}

TEST_CASE("the same Pod name twice in a namespace is an error; across namespaces it is fine") {
  const std::string pod_a = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n";
  const std::string pod_b = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: dev}\n";
  CHECK(load(pod_a + "---\n" + pod_b).ok());
  CHECK(only_error(pod_a + "---\n" + pod_a) ==
        "test.yaml:5:1: metadata.name: duplicate Pod default/p (first defined at test.yaml:1:1)");
}

TEST_CASE("the same Service name twice in a namespace is an error") {
  const std::string web =
      "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [{port: 80}]}\n";
  CHECK(only_error(web + "---\n" + web) ==
        "test.yaml:6:1: metadata.name: duplicate Service default/web (first defined at "
        "test.yaml:1:1)");
}

}  // namespace
}  // namespace svcproxy::conf

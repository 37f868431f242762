#include <doctest/doctest.h>

#include "conf_test_support.hpp"

namespace svcproxy::conf {
namespace {

using testing::load;
using testing::load_ok;
using testing::only_error;

// A Deployment "web" whose spec starts on line 6 when there are no annotations.
std::string deployment(const std::string& annotations, const std::string& spec) {
  return "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n" + annotations +
         "spec:\n" + spec;
}

const std::string template_spec =
    "  replicas: 3\n  selector:\n    matchLabels: {app: web}\n  template:\n"
    "    metadata:\n      labels: {app: web, tier: frontend}\n    spec:\n      containers:\n"
    "        - name: nginx\n          ports: [{name: http, containerPort: 8080}]\n";

TEST_CASE("a Deployment reads replicas, selector, template labels and containers") {
  const Snapshot snapshot = load_ok(deployment("", template_spec));
  REQUIRE(snapshot.deployments.size() == 1);
  const Deployment& web = snapshot.deployments[0];
  CHECK(web.key() == "default/web");
  CHECK(web.replicas == 3);
  CHECK(web.match_labels == Labels{{"app", "web"}});
  CHECK(web.template_labels == Labels{{"app", "web"}, {"tier", "frontend"}});
  REQUIRE(web.containers.size() == 1);
  CHECK(web.containers[0].ports[0].container_port == 8080);
  CHECK(web.dns_name.empty());
  CHECK(web.dns_refresh == std::chrono::seconds(5));
}

TEST_CASE("svcproxy.io/dns and svcproxy.io/dns-refresh") {
  const Snapshot snapshot = load_ok(
      deployment("  annotations:\n    svcproxy.io/dns: api\n    svcproxy.io/dns-refresh: 1m30s\n",
                 template_spec));
  CHECK(snapshot.deployments[0].dns_name == "api");
  CHECK(snapshot.deployments[0].dns_refresh == std::chrono::seconds(90));
  CHECK(only_error(
            deployment("  annotations:\n    svcproxy.io/dns-refresh: soon\n", template_spec)) ==
        "test.yaml:6:30: metadata.annotations.svcproxy.io/dns-refresh: invalid duration \"soon\" "
        "(examples: 500ms, 2s, 5m, 1m30s)");
  CHECK(only_error(deployment("  annotations:\n    svcproxy.io/dns: 'api:80'\n", template_spec)) ==
        "test.yaml:6:22: metadata.annotations.svcproxy.io/dns: \"api:80\" is not a host name to "
        "resolve");
}

TEST_CASE("matchLabels must be a subset of the template labels") {
  const std::string spec =
      "  selector:\n    matchLabels: {app: api}\n  template:\n    metadata:\n      labels: {app: "
      "web}\n";
  CHECK(only_error(deployment("", spec)) ==
        "test.yaml:7:18: spec.selector.matchLabels: selector does not match template labels "
        "(spec.template.metadata.labels)");
}

TEST_CASE("a Deployment needs a non-empty selector and a template") {
  const LoadResult result = load(deployment("", "  replicas: 1\n"));
  REQUIRE(result.errors.size() == 2);
  CHECK(result.errors[0].to_string() == "test.yaml:6:3: spec.selector: Required value");
  CHECK(result.errors[1].to_string() == "test.yaml:6:3: spec.template: Required value");
  CHECK(only_error(deployment("", "  selector: {matchLabels: {}}\n  template: {}\n")) ==
        "test.yaml:6:27: spec.selector.matchLabels: an empty selector is not allowed for a "
        "Deployment");
}

TEST_CASE("replicas must not be negative; names are RFC 1123 subdomains") {
  CHECK(
      only_error(deployment("", "  replicas: -1\n" + template_spec.substr(14))) ==
      "test.yaml:6:13: spec.replicas: Invalid value: -1: must be between 0 and 1000000, inclusive");
  CHECK(only_error("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: Web}\n" +
                   std::string("spec:\n") + template_spec)
            .starts_with("test.yaml:3:18: metadata.name: \"Web\" is not a valid name"));
}

TEST_CASE("Pods without containers inherit them from the Deployment they match") {
  const std::string pods = R"(
---
apiVersion: v1
kind: Pod
metadata: {name: web-1, labels: {app: web}}
status: {podIP: 127.0.1.1}
---
apiVersion: v1
kind: Pod
metadata: {name: web-2, namespace: dev, labels: {app: web}}
---
apiVersion: v1
kind: Pod
metadata: {name: own, labels: {app: web}}
spec:
  containers: [{name: own, ports: [{name: http, containerPort: 9999}]}]
)";
  const Snapshot snapshot = load_ok(deployment("", template_spec) + pods);
  REQUIRE(snapshot.pods.size() == 3);
  CHECK(snapshot.pods[0].owner_deployment == "web");
  REQUIRE(snapshot.pods[0].containers.size() == 1);
  CHECK(snapshot.pods[0].containers[0].ports[0].container_port == 8080);
  // Another namespace: the Deployment is not its owner.
  CHECK(snapshot.pods[1].owner_deployment.empty());
  CHECK(snapshot.pods[1].containers.empty());
  // A Pod that declares containers keeps them.
  CHECK(snapshot.pods[2].owner_deployment.empty());
  CHECK(snapshot.pods[2].containers[0].ports[0].container_port == 9999);
}

}  // namespace
}  // namespace svcproxy::conf

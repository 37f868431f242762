#include "discovery/check_report.hpp"

#include <doctest/doctest.h>

#include "conf/loader.hpp"

namespace svcproxy::discovery {
namespace {

conf::Snapshot load(const std::string& yaml) {
  auto result = conf::load_text(yaml, "test.yaml");
  REQUIRE(result.ok());
  return *result.snapshot;
}

const char* const manifests = R"(apiVersion: v1
kind: Pod
metadata: {name: web-1, labels: {app: web}}
status: {podIP: 127.0.1.1}
---
apiVersion: v1
kind: Pod
metadata: {name: web-2, labels: {app: web}}
status: {podIP: 127.0.1.2}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  clusterIP: 127.96.0.10
  selector: {app: web}
  ports: [{port: 80}]
---
apiVersion: v1
kind: Service
metadata:
  name: web-nodeport
  annotations: {svcproxy.io/load-balancing: least-connections}
spec:
  type: NodePort
  clusterIP: 127.96.0.11
  selector: {app: web}
  ports:
    - {name: http, port: 8080, nodePort: 30080, appProtocol: http}
    - {name: raw, port: 9000, nodePort: 30081}
---
apiVersion: v1
kind: Service
metadata: {name: headless, namespace: dev}
spec: {clusterIP: None, selector: {app: web}, ports: [{port: 80}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, annotations: {svcproxy.io/dns: api.internal}}
spec:
  selector: {matchLabels: {app: api}}
  template: {metadata: {labels: {app: api}}}
---
apiVersion: v1
kind: Service
metadata: {name: api}
spec: {clusterIP: 127.96.0.12, selector: {app: api}, ports: [{port: 80}]}
)";

// clang-format off
const char* const expected_report =
R"(default/web:80             ClusterIP  127.96.0.10:80    -      tcp   round-robin        endpoints=2
default/web-nodeport:http  NodePort   127.96.0.11:8080  30080  http  least-connections  endpoints=2
default/web-nodeport:raw   NodePort   127.96.0.11:9000  30081  tcp   least-connections  endpoints=2
dev/headless:80            ClusterIP  None:80           -      tcp   round-robin        endpoints=0
default/api:80             ClusterIP  127.96.0.12:80    -      tcp   round-robin        endpoints=dns:api.internal
)";
// clang-format on

TEST_CASE("one aligned line per service port") {
  CHECK(format_check_report(load(manifests)) == expected_report);
}

TEST_CASE("a dual-stack Service shows each ClusterIP, IPv6 in brackets") {
  const conf::Snapshot snapshot = load(R"(apiVersion: svcproxy.io/v1
kind: ProxyConfig
spec: {serviceCIDR: "127.96.0.0/12,fd00:10:96::/112"}
---
{apiVersion: v1, kind: Service, metadata: {name: web}, spec: {clusterIP: 127.96.0.10,
  clusterIPs: [127.96.0.10, "fd00:10:96::a"], ipFamilyPolicy: RequireDualStack,
  ports: [{port: 80}]}}
)");
  CHECK(format_check_report(snapshot) ==
        "default/web:80  ClusterIP  127.96.0.10:80,[fd00:10:96::a]:80  -  tcp  round-robin  "
        "endpoints=0\n");
}

TEST_CASE("an empty configuration gives an empty report") {
  CHECK(format_check_report(conf::Snapshot{}).empty());
}

}  // namespace
}  // namespace svcproxy::discovery

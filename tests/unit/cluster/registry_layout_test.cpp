#include "cluster/registry_layout.hpp"

#include <doctest/doctest.h>

namespace svcproxy::cluster {
namespace {

TEST_CASE("keys follow kube-apiserver's layout and parse back") {
  const RegistryLayout layout;
  CHECK(layout.object_key(StoredKind::Service, "default", "web") ==
        "/registry/services/specs/default/web");
  CHECK(layout.object_key(StoredKind::Pod, "dev", "web-1") == "/registry/pods/dev/web-1");
  CHECK(layout.object_key(StoredKind::Node, "", "node-1") == "/registry/minions/node-1");
  CHECK(layout.object_key(StoredKind::Lease, "kube-node-lease", "node-1") ==
        "/registry/leases/kube-node-lease/node-1");
  const auto parsed = layout.parse("/registry/deployments/dev/api");
  REQUIRE(parsed);
  CHECK(parsed->kind == StoredKind::Deployment);
  CHECK(parsed->namespace_name == "dev");
  CHECK(parsed->name == "api");
  CHECK_FALSE(layout.parse("/registry/ranges/serviceips/127.96.0.1"));
  CHECK_FALSE(layout.parse("/registry/pods/only-a-namespace"));
  CHECK_FALSE(layout.parse("/other/pods/a/b"));
}

TEST_CASE("the prefix is configurable and a trailing slash does not matter") {
  const RegistryLayout layout("/svcproxy/");
  CHECK(layout.prefix() == "/svcproxy");
  CHECK(layout.root() == "/svcproxy/");
  CHECK(layout.node_port_key(30080) == "/svcproxy/ranges/servicenodeports/30080");
  CHECK(layout.cluster_ip_key("127.96.0.9") == "/svcproxy/ranges/serviceips/127.96.0.9");
}

TEST_CASE("kubectl's names for what apply prints") {
  CHECK(std::string(kubectl_name(StoredKind::Deployment)) == "deployment.apps");
  CHECK(stored_kind("Service") == StoredKind::Service);
  CHECK_FALSE(stored_kind("ProxyConfig"));
}

}  // namespace
}  // namespace svcproxy::cluster

#include "conf/document_cache.hpp"

#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "conf/loader.hpp"

namespace svcproxy::conf {
namespace {

const std::string kServices = R"(apiVersion: svcproxy.io/v1
kind: ProxyConfig
spec: {nodePortAddresses: ["127.0.0.1"]}
---
apiVersion: v1
kind: Service
metadata: {name: a}
spec: {selector: {app: a}, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: b}
spec: {selector: {app: b}, ports: [{port: 80}]}
)";

std::string write_temp(const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("svcproxy-cache-test-" + std::to_string(::getpid()) + ".yaml");
  std::ofstream(path) << text;
  return path.string();
}

}  // namespace

TEST_CASE("a reload with a cache gives the same snapshot, parsing only what changed") {
  const std::string path = write_temp(kServices);
  DocumentCache cache;
  const LoadResult first = load_files({path}, &cache);
  REQUIRE(first.ok());
  CHECK(cache.size() == 2);  // the two Services; the ProxyConfig is never cached

  std::string changed = kServices;
  changed.replace(changed.rfind("port: 80"), 8, "port: 81");
  write_temp(changed);
  const LoadResult second = load_files({path}, &cache);
  const LoadResult fresh = load_files({path});
  REQUIRE(second.ok());
  REQUIRE(fresh.ok());
  CHECK(cache.size() == 2);  // b's old text was forgotten, its new text remembered
  REQUIRE(second.snapshot->services.size() == 2);
  CHECK(second.snapshot->services[1].ports[0].port == 81);
  CHECK(second.snapshot->services[0].cluster_ip == fresh.snapshot->services[0].cluster_ip);
  CHECK(second.snapshot->services[1].cluster_ip == fresh.snapshot->services[1].cluster_ip);
  CHECK(second.snapshot->proxy.node_port_addresses == std::vector<std::string>{"127.0.0.1"});
  std::filesystem::remove(path);
}

TEST_CASE("cached errors are reported again, at the same place") {
  const std::string path = write_temp("apiVersion: v1\nkind: Pod\nmetadata: {name: Bad_Name}\n");
  DocumentCache cache;
  const LoadResult first = load_files({path}, &cache);
  const LoadResult second = load_files({path}, &cache);
  REQUIRE(first.errors.size() == 1);
  REQUIRE(second.errors.size() == 1);
  CHECK(second.errors[0].to_string() == first.errors[0].to_string());
  std::filesystem::remove(path);
}

TEST_CASE("a second ProxyConfig is still an error when the first comes from the cache") {
  const std::string path = write_temp(kServices + "---\n" + kServices.substr(0, 80));
  DocumentCache cache;
  CHECK_FALSE(load_files({path}, &cache).ok());
  CHECK_FALSE(load_files({path}, &cache).ok());
  std::filesystem::remove(path);
}

}  // namespace svcproxy::conf

namespace svcproxy::conf {

TEST_CASE("a cached document moved to another line is parsed again, at its new place") {
  const std::string path = write_temp(kServices);
  DocumentCache cache;
  REQUIRE(load_files({path}, &cache).ok());
  write_temp("# a comment line moves everything down\n" + kServices);
  const LoadResult moved = load_files({path}, &cache);
  REQUIRE(moved.ok());
  CHECK(moved.snapshot->services[0].location.line == 6);
  CHECK(cache.size() == 2);
  std::filesystem::remove(path);
}

}  // namespace svcproxy::conf

namespace svcproxy::conf {
namespace {

const std::string kShared = R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, ports: [{name: http, containerPort: 8080}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: a}
spec: {type: NodePort, selector: {app: web}, ports: [{port: 80, targetPort: http}]}
---
apiVersion: v1
kind: Service
metadata: {name: b}
spec: {clusterIP: 127.96.0.20, selector: {app: b}, ports: [{port: 80}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web-1, labels: {app: web}}
status: {podIP: 10.0.0.1}
---
apiVersion: v1
kind: Pod
metadata: {name: b-1, labels: {app: b}}
status: {podIP: 10.0.0.2}
spec: {containers: [{name: c}]}
)";

}  // namespace

TEST_CASE("a reload shares unchanged Services and Pods with the previous snapshot") {
  const std::string path = write_temp(kShared);
  DocumentCache cache;
  const LoadResult first = load_files({path}, &cache);
  REQUIRE(first.ok());
  std::string changed = kShared;
  changed.replace(changed.find("port: 80}"), 8, "port: 81");  // b's port
  changed.replace(changed.find("10.0.0.2"), 8, "10.0.0.9");   // b-1's address
  write_temp(changed);
  const LoadResult second = load_files({path}, &cache);
  REQUIRE(second.ok());
  const Snapshot& before = *first.snapshot;
  const Snapshot& after = *second.snapshot;
  // b changed: a new object with the new port; b-1 likewise.
  CHECK(after.services[1].ports[0].port == 81);
  CHECK_FALSE(ServiceList::same_object(before.services, 1, after.services, 1));
  CHECK(after.pods[1].pod_ip == "10.0.0.9");
  CHECK_FALSE(PodList::same_object(before.pods, 1, after.pods, 1));
  // a was allocated and web-1 inherited the Deployment's containers: each load gives them
  // objects of their own, with the same values, and the cache's stay as parsed.
  CHECK(after.services[0] == before.services[0]);
  CHECK(after.services[0].ports[0].node_port != 0);
  CHECK_FALSE(after.services[0].cluster_ip.empty());
  CHECK(after.pods[0] == before.pods[0]);
  CHECK(after.pods[0].owner_deployment == "web");
  // Unchanged and not touched by allocation or inheritance: the very same objects.
  write_temp(changed + "---\napiVersion: v1\nkind: Pod\nmetadata: {name: c-1}\n");
  const LoadResult third = load_files({path}, &cache);
  REQUIRE(third.ok());
  CHECK(ServiceList::same_object(after.services, 1, third.snapshot->services, 1));
  CHECK(PodList::same_object(after.pods, 1, third.snapshot->pods, 1));
  CHECK(third.snapshot->pods.size() == 3);
  std::filesystem::remove(path);
}

}  // namespace svcproxy::conf

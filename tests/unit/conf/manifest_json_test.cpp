// Manifests as stored in etcd: JSON that the loader reads back exactly as it read the YAML.
#include "conf/manifest_json.hpp"

#include <doctest/doctest.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>

#include "conf_test_support.hpp"

namespace svcproxy::conf {
namespace {

namespace json = boost::json;

std::string as_json(const std::string& yaml) {
  std::istringstream stream(yaml);
  YamlTree tree(stream);
  REQUIRE(tree.documents().size() == 1);
  return json::serialize(to_json(tree.documents().front()));
}

// What a diagnostic says, without where (the JSON's positions differ from the YAML's).
std::vector<std::string> messages(const Diagnostics& diagnostics) {
  std::vector<std::string> found;
  for (const auto& d : diagnostics)
    found.push_back(d.field_path + ": " + d.message);
  return found;
}

void same_load(const std::string& yaml) {
  const LoadResult from_yaml = load_text(yaml, "a.yaml");
  const std::string text = as_json(yaml);
  const LoadResult from_json = load_text(text, "a.json");
  INFO(text);
  CHECK(messages(from_yaml.errors) == messages(from_json.errors));
  REQUIRE(from_yaml.ok() == from_json.ok());
  if (!from_yaml.ok()) return;
  const Snapshot& a = *from_yaml.snapshot;
  const Snapshot& b = *from_json.snapshot;
  REQUIRE(a.services.size() == b.services.size());
  for (std::size_t i = 0; i < a.services.size(); ++i) {
    Service left = a.services[i], right = b.services[i];
    left.location = right.location = {};
    left.cluster_ip_location = right.cluster_ip_location = {};
    for (auto* ports : {&left.ports, &right.ports})
      for (auto& port : *ports)
        port.location = port.node_port_location = {};
    CHECK(left == right);
  }
  REQUIRE(a.pods.size() == b.pods.size());
  for (std::size_t i = 0; i < a.pods.size(); ++i) {
    Pod left = a.pods[i], right = b.pods[i];
    left.location = right.location = {};
    CHECK(left == right);
  }
}

TEST_CASE("numbers stay numbers and quoted text stays text") {
  CHECK(as_json("port: 80\nname: \"80\"\nratio: 1.5\nflag: true\nnone: ~\nempty:\n") ==
        R"({"port":80,"name":"80","ratio":"1.5","flag":true,"none":null,"empty":null})");
  CHECK(as_json("list: [a, 'b', 3]\nnested: {x: {y: z}}") ==
        R"({"list":["a","b",3],"nested":{"x":{"y":"z"}}})");
  CHECK(as_json("anchor: &a {k: v}\nuse: *a") == R"({"anchor":{"k":"v"},"use":{"k":"v"}})");
}

TEST_CASE("the loader reads the JSON of a manifest as it read the YAML") {
  same_load(R"(apiVersion: v1
kind: Service
metadata: {name: web, namespace: dev, annotations: {svcproxy.io/load-balancing: least-connections}}
spec:
  type: NodePort
  selector: {app: web}
  sessionAffinity: ClientIP
  ports:
  - {name: http, port: 80, targetPort: http, appProtocol: http, nodePort: 30080}
  - {name: raw, port: 9000, targetPort: 9001}
)");
  same_load(R"(apiVersion: v1
kind: Pod
metadata: {name: web-1, labels: {app: web, tier: "1"}}
spec:
  nodeName: node-1
  containers:
  - name: main
    ports: [{name: http, containerPort: 8080}]
    readinessProbe: {httpGet: {path: /healthz, port: http}, periodSeconds: 2}
status: {podIP: 127.0.1.1}
)");
}

TEST_CASE("and reports the same errors for the same mistakes") {
  same_load(
      "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n"
      "spec: {ports: [{port: \"80\"}]}\n");
  same_load(
      "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n"
      "spec: {ports: [{port: 70000}]}\n");
  same_load(
      "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n"
      "spec: {publishNotReadyAddresses: \"yes\", ports: [{port: 80}]}\n");
}

TEST_CASE("manifest files give their known objects, List items one by one") {
  const auto path = std::filesystem::temp_directory_path() /
                    ("manifest-json-test-" + std::to_string(::getpid()) + ".yaml");
  std::ofstream(path) << "apiVersion: v1\nkind: List\nitems:\n"
                         "- {apiVersion: v1, kind: Service, metadata: {name: a}}\n"
                         "- {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}\n"
                         "---\n"
                         "apiVersion: apps/v1\nkind: Deployment\n"
                         "metadata: {name: d, namespace: dev}\n";
  Diagnostics errors;
  const auto objects = read_manifest_objects({path.string()}, errors);
  std::filesystem::remove(path);
  CHECK(errors.empty());
  REQUIRE(objects.size() == 2);
  CHECK(objects[0].kind == "Service");
  CHECK(objects[0].namespace_name == "default");
  CHECK(objects[1].kind == "Deployment");
  CHECK(objects[1].namespace_name == "dev");
  CHECK(objects[1].location.line == 7);  // after the "---" line
}

}  // namespace
}  // namespace svcproxy::conf

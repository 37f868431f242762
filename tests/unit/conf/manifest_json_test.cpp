// Manifests as stored in etcd: JSON that the loader reads back exactly as it read the YAML.
#include "conf/manifest_json.hpp"

#include <doctest/doctest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <sstream>

#include "conf_test_support.hpp"

namespace svcproxy::conf {
namespace {

namespace json = boost::json;
using testing::joined;
using testing::TempDir;

const std::string kSourceDir = SVCPROXY_SOURCE_DIR;

std::string as_json(const std::string& yaml) {
  std::istringstream stream(yaml);
  YamlTree tree(stream);
  REQUIRE(tree.documents().size() == 1);
  return json::serialize(to_json(tree.documents().front()));
}

// The error to_json throws for `yaml`, as "field.path: message".
std::string conversion_error(const std::string& yaml) {
  std::istringstream stream(yaml);
  YamlTree tree(stream);
  REQUIRE(tree.documents().size() == 1);
  try {
    to_json(tree.documents().front());
  } catch (const JsonConversionError& e) {
    return e.field_path() + ": " + e.what();
  }
  return "no error";
}

// What a diagnostic says, without where (the JSON's positions differ from the YAML's).
std::vector<std::string> messages(const Diagnostics& diagnostics) {
  std::vector<std::string> found;
  for (const auto& d : diagnostics)
    found.push_back(d.field_path + ": " + d.message);
  return found;
}

void same_services(const ServiceList& a, const ServiceList& b) {
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    Service left = a[i], right = b[i];
    left.location = right.location = {};
    left.cluster_ip_location = right.cluster_ip_location = {};
    for (auto* ports : {&left.ports, &right.ports})
      for (auto& port : *ports)
        port.location = port.node_port_location = {};
    CHECK(left == right);
  }
}

void same_pods(const PodList& a, const PodList& b) {
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    Pod left = a[i], right = b[i];
    left.location = right.location = {};
    CHECK(left == right);
  }
}

void same_deployments(const std::vector<Deployment>& a, const std::vector<Deployment>& b) {
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].namespace_name == b[i].namespace_name);
    CHECK(a[i].name == b[i].name);
    CHECK(a[i].annotations == b[i].annotations);
    CHECK(a[i].replicas == b[i].replicas);
    CHECK(a[i].match_labels == b[i].match_labels);
    CHECK(a[i].template_labels == b[i].template_labels);
    CHECK(a[i].containers == b[i].containers);
    CHECK(a[i].dns_name == b[i].dns_name);
    CHECK(a[i].dns_refresh == b[i].dns_refresh);
  }
}

void same_secrets(const std::vector<TlsSecret>& a, const std::vector<TlsSecret>& b) {
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].namespace_name == b[i].namespace_name);
    CHECK(a[i].name == b[i].name);
    CHECK(a[i].certificate_pem == b[i].certificate_pem);
    CHECK(a[i].private_key_pem == b[i].private_key_pem);
  }
}

void same_proxy(const ProxySettings& a, const ProxySettings& b) {
  CHECK(a.node_name == b.node_name);
  CHECK(a.node_port_addresses == b.node_port_addresses);
  CHECK(a.service_cidr == b.service_cidr);
  CHECK(a.node_port_range.first == b.node_port_range.first);
  CHECK(a.node_port_range.last == b.node_port_range.last);
  CHECK(a.admin_address == b.admin_address);
  CHECK(a.workers == b.workers);
  CHECK(a.load_balancing == b.load_balancing);
  CHECK(a.dns_servers == b.dns_servers);
  CHECK(a.timeouts.connect == b.timeouts.connect);
  CHECK(a.timeouts.idle == b.timeouts.idle);
  CHECK(a.timeouts.request_header == b.timeouts.request_header);
  CHECK(a.timeouts.upstream_response == b.timeouts.upstream_response);
  CHECK(a.timeouts.drain == b.timeouts.drain);
  CHECK(a.timeouts.request_body == b.timeouts.request_body);
  CHECK(a.limits.max_connections == b.limits.max_connections);
  CHECK(a.limits.max_header_bytes == b.limits.max_header_bytes);
  CHECK(a.limits.max_body_bytes == b.limits.max_body_bytes);
  CHECK(a.limits.allow_underscores_in_headers == b.limits.allow_underscores_in_headers);
  CHECK(a.outlier_detection == b.outlier_detection);
  CHECK(a.access_log.enabled == b.access_log.enabled);
  CHECK(a.access_log.format == b.access_log.format);
  CHECK(a.access_log.path == b.access_log.path);
  CHECK(a.nodes == b.nodes);
  CHECK(a.etcd == b.etcd);
}

// The two loads give the same model and the same errors, wherever those are.
void same_result(const LoadResult& from_yaml, const LoadResult& from_json) {
  INFO(joined(from_yaml.errors));
  CHECK(messages(from_yaml.errors) == messages(from_json.errors));
  REQUIRE(from_yaml.ok() == from_json.ok());
  if (!from_yaml.ok()) return;
  const Snapshot& a = *from_yaml.snapshot;
  const Snapshot& b = *from_json.snapshot;
  same_services(a.services, b.services);
  same_pods(a.pods, b.pods);
  same_deployments(a.deployments, b.deployments);
  same_secrets(a.secrets, b.secrets);
  same_proxy(a.proxy, b.proxy);
}

// One document, as YAML and as its JSON.
void same_load(const std::string& yaml) {
  const std::string text = as_json(yaml);
  INFO(text);
  same_result(load_text(yaml, "a.yaml"), load_text(text, "a.json"));
}

// A whole file, as YAML and as the JSON of its objects (List items one by one).
void same_load_of_file(const std::string& file) {
  INFO(file);
  Diagnostics errors;
  const std::vector<ManifestObject> objects = read_manifest_objects({file}, errors);
  CHECK(joined(errors).empty());
  std::string stream;
  for (const auto& object : objects)
    stream += json::serialize(object.json) + "\n---\n";
  INFO(stream);
  same_result(load_files({file}), load_text(stream, "a.json"));
}

TEST_CASE("a quoted scalar is a JSON string; a plain one a number or boolean as our readers say") {
  CHECK(as_json("a: 80\nb: \"80\"\nc: '80'\nd: -7\ne: !!str 80") ==
        R"({"a":80,"b":"80","c":"80","d":-7,"e":80})");
  // yaml-cpp's integer spellings (YamlReader::integer takes them), as the values they are.
  CHECK(as_json("hex: 0x1F\noctal: 010\nplus: +5\nyaml12_octal: 0o17\nbig: 99999999999999999999") ==
        R"({"hex":31,"octal":8,"plus":5,"yaml12_octal":"0o17","big":"99999999999999999999"})");
  CHECK(as_json("a: true\nb: False\nc: yes\nd: OFF\ne: y\nf: 'true'\ng: yEs") ==
        R"({"a":true,"b":false,"c":true,"d":false,"e":true,"f":"true","g":"yEs"})");
  // Floats stay text: Boost.JSON would write 1.10 back as 1.1E0.
  CHECK(as_json("a: 1.10\nb: 1e3\nc: .inf") == R"({"a":"1.10","b":"1e3","c":".inf"})");
  // A YAML null is JSON null; a tagged scalar is a scalar to our readers, so a string here.
  CHECK(as_json("a: ~\nb: null\nc:\nd: !!str null\ne: 'null'\nf: \"\"") ==
        R"({"a":null,"b":null,"c":null,"d":"null","e":"null","f":""})");
  CHECK(as_json("text: |\n  two\n  lines\nq: \"tab\\there \\\"x\\\" \\u00e9\"") ==
        R"({"text":"two\nlines\n","q":"tab\there \"x\" é"})");
}

TEST_CASE("keys are the text of scalar keys, in order; lists nest; aliases are expanded") {
  CHECK(as_json("z: 1\n80: a\n'y': [a, 'b', 3, [x], {k: ~}]") ==
        R"({"z":1,"80":"a","y":["a","b",3,["x"],{"k":null}]})");
  CHECK(as_json("anchor: &a {k: v}\nuse: *a\nscalar: &s 80\nagain: *s") ==
        R"({"anchor":{"k":"v"},"use":{"k":"v"},"scalar":80,"again":80})");
  CHECK(as_json("[1, two]") == R"([1,"two"])");
}

TEST_CASE("a key with no JSON form is an error naming its field") {
  CHECK(conversion_error("spec:\n  ports:\n  - {[a]: b}\n") ==
        "spec.ports[0]: a key that is a mapping, a list or null has no JSON form");
  CHECK(conversion_error("metadata: {labels: {~: b}}\n") ==
        "metadata.labels: a key that is a mapping, a list or null has no JSON form");
  CHECK(conversion_error("metadata:\n  labels: {app: a, app: b}\n") ==
        "metadata.labels.app: is given twice (a JSON object has one value per key)");
}

TEST_CASE("an alias inside its own anchor, or aliases expanding without end, are errors") {
  CHECK(conversion_error("a: &a [*a]\n").ends_with("(an alias inside its own anchor?)"));
  std::string laughs = "a: &a [\"" + std::string(1000, 'x') + "\"]\n";
  for (char level = 'b'; level <= 'h'; ++level) {
    const char previous = static_cast<char>(level - 1);
    laughs += std::string(1, level) + ": &" + level + " [";
    for (int i = 0; i < 10; ++i)
      laughs += std::string(i ? ", *" : "*") + previous;
    laughs += "]\n";
  }
  const std::string error = conversion_error(laughs);  // f is 100 MiB of them
  CHECK(error.starts_with("f[5]"));
  CHECK(error.ends_with(": aliases expand this document past 64 MiB of JSON"));
}

TEST_CASE("every example manifest loads from its JSON as from its YAML") {
  std::vector<std::string> files;
  for (const char* dir : {"/conf/examples", "/conf/compose"})
    for (const auto& entry : std::filesystem::recursive_directory_iterator(kSourceDir + dir))
      if (entry.path().extension() == ".yaml") files.push_back(entry.path().string());
  REQUIRE(files.size() >= 10);
  for (const auto& file : files)
    same_load_of_file(file);
}

TEST_CASE("the loader reads the JSON of a manifest as it read the YAML") {
  same_load(R"(apiVersion: v1
kind: Service
metadata: {name: web, namespace: dev, annotations: {svcproxy.io/load-balancing: least-connections}}
spec:
  type: NodePort
  selector: {app: web, version: "1", canary: "true"}
  sessionAffinity: ClientIP
  sessionAffinityConfig: {clientIP: {timeoutSeconds: 0x258}}
  ports:
  - {name: http, port: 80, targetPort: http, appProtocol: http, nodePort: 30080}
  - {name: raw, port: 9000, targetPort: 9001}
)");
  same_load(R"(apiVersion: v1
kind: Pod
metadata: {name: web-1, labels: {app: web, tier: "1", release: "2.0"}}
spec:
  nodeName: node-1
  containers:
  - name: main
    ports: [{name: http, containerPort: 8080}]
    readinessProbe:
      httpGet: {path: /healthz, port: http, httpHeaders: [{name: X-Check, value: 1}]}
      periodSeconds: 2
status: {podIP: 127.0.1.1}
)");
  same_load(R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: web, annotations: {svcproxy.io/dns: web, svcproxy.io/dns-refresh: 2s}}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: nginx, ports: [{containerPort: 80}]}]}
)");
}

TEST_CASE("and reports the same errors for the same mistakes") {
  const std::string service = "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: ";
  same_load(service + "{ports: [{port: \"80\"}]}\n");  // a quoted port number
  same_load(service + "{ports: [{port: 80, targetPort: \"8080\"}]}\n");
  same_load(service + "{ports: [{port: 80, targetPort: 8080}]}\n");
  same_load(service + "{ports: [{port: 70000}]}\n");
  same_load(service + "{ports: [{port: 1.5}]}\n");
  same_load(service + "{ports: [{port: 0o17}]}\n");
  same_load(service + "{ports: [{port: true}]}\n");
  same_load(service + "{selector: {app: [a]}, ports: [{port: 80}]}\n");
  same_load(service + "{publishNotReadyAddresses: \"yes\", ports: [{port: 80}]}\n");
  same_load(service + "{publishNotReadyAddresses: 1, ports: [{port: 80}]}\n");
  same_load(service + "{type: ~, clusterIP: !!str null, ports: [{port: 80}]}\n");
  same_load("apiVersion: v1\nkind: Service\nmetadata: {name: 80}\nspec: {ports: [{port: 80}]}\n");
  same_load("apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: \"\"}\n");
  same_load("apiVersion: svcproxy.io/v1\nkind: ProxyConfig\nspec: {workers: \"2\"}\n");
  same_load("apiVersion: svcproxy.io/v1\nkind: ProxyConfig\nspec: {timeouts: {idle: 10}}\n");
}

TEST_CASE("another spelling of a number or boolean reads back as the value, in JSON's spelling") {
  // The same to a field that wants the number or the boolean...
  same_load(
      "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n"
      "spec: {publishNotReadyAddresses: on, ports: [{port: 0x50, targetPort: 010}]}\n");
  // ...and the value's text to one that wants text.
  const std::string pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {nodeName: 010}\n";
  const LoadResult from_json = load_text(as_json(pod), "a.json");
  REQUIRE(from_json.ok());
  CHECK(testing::load_ok(pod).pods[0].node_name == "010");
  CHECK(from_json.snapshot->pods[0].node_name == "8");
}

TEST_CASE("a number or boolean where Kubernetes wants a string is refused from YAML and JSON") {
  // Kubernetes' decoding refuses them (a selector or labels are map[string]string).
  const std::string service =
      "apiVersion: v1\nkind: Service\nmetadata: {name: web, labels: {release: 25}}\n"
      "spec: {selector: {app: web, version: 1, canary: true}, ports: [{port: 80}]}\n";
  const LoadResult from_yaml = load_text(service, "a.yaml");
  const LoadResult from_json = load_text(as_json(service), "a.json");
  CHECK(messages(from_yaml.errors) ==
        std::vector<std::string>{
            "metadata.labels.release: expected a string, got 25 (a YAML number, which "
            "Kubernetes refuses here; quote it: \"25\")",
            "spec.selector.version: expected a string, got 1 (a YAML number, which Kubernetes "
            "refuses here; quote it: \"1\")",
            "spec.selector.canary: expected a string, got true (a YAML boolean, which Kubernetes "
            "refuses here; quote it: \"true\")"});
  CHECK(messages(from_json.errors) == messages(from_yaml.errors));
}

TEST_CASE("manifest files give their known objects, List items one by one, in file order") {
  TempDir dir;
  const std::string path = dir.write("objects.yaml",
                                     "apiVersion: v1\nkind: List\nitems:\n"
                                     "- {apiVersion: v1, kind: Service, metadata: {name: a}}\n"
                                     "- {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}\n"
                                     "---\n"
                                     "apiVersion: apps/v1\nkind: Deployment\n"
                                     "metadata: {name: d, namespace: dev}\n"
                                     "---\n"
                                     "apiVersion: svcproxy.io/v1\nkind: ProxyConfig\n");
  Diagnostics errors;
  const auto objects = read_manifest_objects({dir.path.string()}, errors);
  CHECK(joined(errors).empty());
  REQUIRE(objects.size() == 3);
  CHECK(objects[0].api_version == "v1");
  CHECK(objects[0].kind == "Service");
  CHECK(objects[0].name == "a");
  CHECK(objects[0].namespace_name == "default");
  CHECK(objects[0].location == SourceLocation{path, 4, 3});
  CHECK(json::serialize(objects[0].json) ==
        R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"a"}})");
  CHECK(objects[1].kind == "Deployment");
  CHECK(objects[1].namespace_name == "dev");
  CHECK(objects[1].location == SourceLocation{path, 7, 1});  // after the "---" line
  CHECK(objects[2].kind == "ProxyConfig");
  CHECK(objects[2].namespace_name.empty());
}

TEST_CASE("a document with no JSON form is an error where the loader would point") {
  TempDir dir;
  const std::string path = dir.write("bad.yaml",
                                     "apiVersion: v1\nkind: List\nitems:\n"
                                     "- apiVersion: v1\n  kind: Pod\n"
                                     "  metadata: {name: a, labels: {x: a, x: b}}\n"
                                     "- {apiVersion: v1, kind: Pod, metadata: {name: b}}\n"
                                     "---\n"
                                     "apiVersion: v1\nkind: Pod\nmetadata: {name: [c\n");
  Diagnostics errors;
  const auto objects = read_manifest_objects({path}, errors);
  REQUIRE(objects.size() == 1);
  CHECK(objects[0].name == "b");
  REQUIRE(errors.size() == 2);
  CHECK(errors[0].to_string() == path +
                                     ":6:38: items[0].metadata.labels.x: is given twice (a JSON "
                                     "object has one value per key)");
  // A syntax error says what the loader says, at the same place.
  const LoadResult loaded = load_files({path});
  REQUIRE(loaded.errors.size() == 1);
  CHECK(errors[1].to_string() == loaded.errors[0].to_string());
}

TEST_CASE("a missing path is an error, as for the loader") {
  Diagnostics errors;
  CHECK(read_manifest_objects({"/nonexistent/manifests.yaml"}, errors).empty());
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].location.file == "/nonexistent/manifests.yaml");
}

}  // namespace
}  // namespace svcproxy::conf

// go-yaml v2 (under kubectl) resolves these plain scalars to floats: refused in a label, a
// selector or an annotation; a version-like "1.2.3" or a quoted "1.5" is a string.
TEST_CASE("a float where Kubernetes wants a string is refused; float-looking strings are not") {
  const auto service = [](const std::string& value) {
    return "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {selector: {version: " +
           value + "}, ports: [{port: 80}]}\n";
  };
  for (const char* value : {"1.5", "1e3", ".5", "-2.", "+.inf", ".NaN"}) {
    CAPTURE(value);
    CHECK(svcproxy::conf::testing::only_error(service(value))
              .ends_with(std::string("spec.selector.version: expected a string, got ") + value +
                         " (a YAML number, which Kubernetes refuses here; quote it: \"" + value +
                         "\")"));
  }
  for (const char* value : {"1.2.3", "'1.5'", "v1.5", "1.5a", "e3", "1e"}) {
    CAPTURE(value);
    CHECK(svcproxy::conf::load_text(service(value), "a.yaml").errors.empty());
  }
}

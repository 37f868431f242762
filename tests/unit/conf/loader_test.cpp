#include "conf/loader.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "conf_test_support.hpp"

namespace svcproxy::conf {
namespace {

using testing::joined;
using testing::load;
using testing::load_ok;
using testing::only_error;
using testing::TempDir;

const std::string examples_dir = std::string(SVCPROXY_SOURCE_DIR) + "/conf/examples";

const char* const service_a = R"(apiVersion: v1
kind: Service
metadata: {name: a}
spec:
  selector: {app: a}
  ports: [{port: 80}]
)";

const char* const service_b = R"(apiVersion: v1
kind: Service
metadata: {name: b}
spec:
  selector: {app: b}
  ports: [{port: 80}]
)";

TEST_CASE("every example file loads without errors, alone and as a directory") {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(examples_dir))
    if (entry.path().extension() == ".yaml") files.push_back(entry.path().string());
  REQUIRE(files.size() >= 3);
  for (const auto& file : files) {
    const LoadResult result = load_files({file});
    INFO(file << "\n" << joined(result.errors));
    CHECK(result.ok());
  }
  const LoadResult all = load_files({examples_dir});
  INFO(joined(all.errors));
  CHECK(all.ok());
}

TEST_CASE("the demo example is the seed's manifests, runnable on loopback") {
  const LoadResult result = load_files({examples_dir + "/demo.yaml"});
  REQUIRE(result.ok());
  const Snapshot& snapshot = *result.snapshot;
  CHECK(snapshot.services.size() == 3);
  CHECK(snapshot.services[0].cluster_ip == "127.96.0.10");
  CHECK(snapshot.services[1].ports[0].node_port == 30080);
  CHECK(snapshot.services[2].load_balancer_ips == std::vector<std::string>{"127.0.2.1"});
  CHECK(snapshot.proxy.node_port_addresses == std::vector<std::string>{"127.0.0.1"});
  REQUIRE(snapshot.pods.size() == 3);
  CHECK(snapshot.pods[0].owner_deployment == "web-deployment");
  CHECK(result.warnings.empty());
}

TEST_CASE("a directory is read in name order, only *.yaml and *.yml, not recursively") {
  TempDir dir;
  dir.write("2-b.yml", service_b);
  dir.write("1-a.yaml", service_a);
  dir.write("notes.txt", "not: [yaml");
  std::filesystem::create_directories(dir.path / "sub");
  dir.write("sub/c.yaml", "not: [yaml");
  const LoadResult result = load_files({dir.path.string()});
  INFO(joined(result.errors));
  REQUIRE(result.ok());
  REQUIRE(result.snapshot->services.size() == 2);
  CHECK(result.snapshot->services[0].name == "a");
  CHECK(result.snapshot->services[1].name == "b");
}

TEST_CASE("files and directories combine; a missing path is an error") {
  TempDir dir;
  const std::string a = dir.write("a.yaml", service_a);
  const LoadResult result = load_files({a, (dir.path / "missing.yaml").string()});
  REQUIRE(result.errors.size() == 1);
  CHECK(result.errors[0].to_string() ==
        (dir.path / "missing.yaml").string() + ":1:1: no such file or directory");
}

TEST_CASE("a multi-document stream reads every document and skips empty ones") {
  const Snapshot snapshot = load_ok(std::string("---\n") + service_a + "---\n---\n" + service_b);
  CHECK(snapshot.services.size() == 2);
}

TEST_CASE("an empty stream is a valid, empty configuration") {
  const Snapshot snapshot = load_ok("");
  CHECK(snapshot.services.empty());
  CHECK(snapshot.proxy.service_cidr == "127.96.0.0/12");
}

TEST_CASE("a YAML syntax error is a diagnostic with its position") {
  const LoadResult result = load("apiVersion: v1\nkind: Service\nmetadata: {name: [a\n");
  REQUIRE(result.errors.size() == 1);
  CHECK(result.errors[0].location.file == "test.yaml");
  CHECK(result.errors[0].location.line >= 3);
  CHECK(result.errors[0].message.starts_with("YAML syntax error: "));
  CHECK_FALSE(result.ok());
}

TEST_CASE("a tab-indented document is a syntax error at the tab") {
  const std::string text = only_error("apiVersion: v1\nkind: Pod\nmetadata:\n\tname: x\n");
  CHECK(text.starts_with("test.yaml:4:"));
}

TEST_CASE("a ',' outside a flow collection is a syntax error, not a hang") {
  // yaml-cpp 0.7 alone loops on it forever (found by fuzz/yaml_loader_fuzzer).
  CHECK(only_error(",\n") ==
        "test.yaml:1:1: YAML syntax error: unexpected ',' outside [...] or {...}");
  CHECK(only_error("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n---\n  ,\n")
            .starts_with("test.yaml:5:3: YAML syntax error: "));
}

TEST_CASE("Namespace objects are known: no warning, their names kept, bad names refused") {
  const LoadResult result = load(
      std::string("apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\n") + service_a);
  INFO(joined(result.errors));
  REQUIRE(result.ok());
  CHECK(result.warnings.empty());
  CHECK(result.snapshot->namespaces == std::vector<std::string>{"shop"});
  CHECK(only_error("apiVersion: v1\nkind: Namespace\nmetadata: {name: Shop.Two}\n")
            .starts_with("test.yaml:3:18: metadata.name: \"Shop.Two\" is not a valid name: a DNS "
                         "label (RFC 1123)"));
}

TEST_CASE("a Pod's phase is read; an unknown one is an error") {
  const std::string pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nstatus: {phase: ";
  CHECK(load_ok(pod + "Succeeded}\n").pods[0].phase == "Succeeded");
  CHECK(only_error(pod + "Done}\n") ==
        "test.yaml:4:17: status.phase: unknown phase \"Done\" (expected Pending, Running, "
        "Succeeded, Failed or Unknown)");
}

TEST_CASE("unknown kinds are skipped with one warning each") {
  const LoadResult result = load(std::string(R"(apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web}
---
)") + service_a);
  INFO(joined(result.errors));
  REQUIRE(result.ok());
  REQUIRE(result.warnings.size() == 2);
  CHECK(result.warnings[0].to_string() ==
        "test.yaml:1:1: skipping unknown kind ConfigMap (apiVersion v1)");
  CHECK(result.warnings[1].to_string() ==
        "test.yaml:5:1: skipping unknown kind Ingress (apiVersion networking.k8s.io/v1)");
  CHECK(result.snapshot->services.size() == 1);
}

TEST_CASE("a known kind under an unknown apiVersion is skipped too") {
  const LoadResult result = load("apiVersion: extensions/v1beta1\nkind: Deployment\n");
  REQUIRE(result.ok());
  REQUIRE(result.warnings.size() == 1);
  CHECK(result.warnings[0].message.starts_with("skipping unknown kind Deployment"));
}

TEST_CASE("a kubectl List is read item by item") {
  const Snapshot snapshot = load_ok(R"(apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: Pod
    metadata: {name: p}
    status: {podIP: 10.0.0.1}
)");
  REQUIRE(snapshot.pods.size() == 1);
  CHECK(snapshot.pods[0].pod_ip == "10.0.0.1");
}

TEST_CASE("a second ProxyConfig is an error pointing at the first") {
  const std::string text = only_error(R"(apiVersion: svcproxy.io/v1
kind: ProxyConfig
---
apiVersion: svcproxy.io/v1
kind: ProxyConfig
)");
  CHECK(text == "test.yaml:4:1: only one ProxyConfig is allowed (the first is at test.yaml:1:1)");
}

TEST_CASE("errors from every document are collected, in file order") {
  const LoadResult result = load(R"(apiVersion: v1
kind: Pod
metadata: {name: Bad_Name}
---
apiVersion: v1
kind: Service
metadata: {name: s}
spec:
  ports: [{port: 0}]
)");
  REQUIRE(result.errors.size() == 2);
  CHECK(result.errors[0].location.line == 3);
  CHECK(result.errors[1].to_string() ==
        "test.yaml:9:18: spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, "
        "inclusive");
}

TEST_CASE("a syntax error in one document does not hide the errors of the next") {
  const LoadResult result = load(R"(apiVersion: v1
kind: Pod
metadata: {name: [broken
---
apiVersion: v1
kind: Service
metadata: {name: s}
spec:
  ports: [{port: 0}]
--- # a comment after the marker
apiVersion: v1
kind: Pod
metadata: {name: Bad_Name}
)");
  REQUIRE(result.errors.size() == 3);
  CHECK(result.errors[0].message.starts_with("YAML syntax error: "));
  CHECK(result.errors[0].location.line <= 4);
  CHECK(result.errors[1].to_string() ==
        "test.yaml:9:18: spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, "
        "inclusive");
  CHECK(result.errors[2].location.line == 13);
}

TEST_CASE("a '---' that is not a document marker stays inside its document") {
  const LoadResult result = load(R"(apiVersion: v1
kind: Pod
metadata:
  name: web-1
  annotations: {note: "----"}
status: {podIP: 127.0.1.1}
)");
  CHECK(joined(result.errors).empty());
  REQUIRE(result.ok());
  CHECK(result.snapshot->pods.size() == 1);
}

TEST_CASE("arbitrary junk never throws") {
  for (const char* junk : {"- a\n- b\n", "42", "{", "kind: [x]\napiVersion: {a: b}\n",
                           "apiVersion: v1\nkind: Service\nspec: 3\nmetadata: [1]\n",
                           "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {ports: 7}\n",
                           "apiVersion: v1\nkind: Pod\nmetadata: {name: a, labels: [x]}\n",
                           "\xff\xfe\x00garbage", "? [a]\n: b\n", "&a [*a]"}) {
    CHECK_NOTHROW(load(junk));
  }
}

TEST_CASE("inline documents load after the files, each a stream named in its diagnostics") {
  TempDir dir;
  const std::string a = dir.write("a.yaml", service_a);
  const std::vector<InlineDocument> documents = {
      {"/registry/services/specs/default/b",
       R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"b"},)"
       R"("spec":{"selector":{"app":"b"},"ports":[{"port":80}]}})"},
      // Lines count from each document's own first line, not from the streams before it.
      {"/registry/pods/default/p", "apiVersion: v1\nkind: Pod\nmetadata: {name: Bad_Name}\n"},
      {"/registry/services/specs/default/c",
       R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"c"},"spec":{"ports":[{"port":0}]}})"},
  };
  const LoadResult result = load_files({a}, documents);
  REQUIRE(result.errors.size() == 2);
  CHECK(result.errors[0].to_string().starts_with("/registry/pods/default/p:3:18: metadata.name: "));
  CHECK(result.errors[1].to_string() ==
        "/registry/services/specs/default/c:1:86: spec.ports[0].port: Invalid value: 0: must be "
        "between 1 and 65535, inclusive");

  const LoadResult valid = load_files({a}, {documents[0]});
  INFO(joined(valid.errors));
  REQUIRE(valid.ok());
  REQUIRE(valid.snapshot->services.size() == 2);
  CHECK(valid.snapshot->services[0].name == "a");
  CHECK(valid.snapshot->services[1].name == "b");
  CHECK(valid.snapshot->services[1].location.file == "/registry/services/specs/default/b");
  // The overload without inline documents is these files alone.
  CHECK(load_files({a}).snapshot->services.size() == 1);
}

TEST_CASE("a name defined in a file and inline is a duplicate, reported at the second") {
  TempDir dir;
  const std::string a = dir.write("a.yaml", service_a);
  const LoadResult result = load_files({a}, {{"/registry/services/specs/default/a", service_a}});
  REQUIRE(result.errors.size() == 1);
  CHECK(result.errors[0].to_string() ==
        "/registry/services/specs/default/a:1:1: metadata.name: duplicate Service default/a "
        "(first defined at " +
            a + ":1:1)");
}

TEST_CASE("one ProxyConfig among the files and the inline documents") {
  TempDir dir;
  const std::string node =
      dir.write("node.yaml", "apiVersion: svcproxy.io/v1\nkind: ProxyConfig\n");
  const LoadResult result =
      load_files({node}, {{"key", R"({"apiVersion":"svcproxy.io/v1","kind":"ProxyConfig"})"}});
  REQUIRE(result.errors.size() == 1);
  CHECK(result.errors[0].to_string() ==
        "key:1:1: only one ProxyConfig is allowed (the first is at " + node + ":1:1)");
}

TEST_CASE("the cache keeps inline documents by name, so a reload parses only what changed") {
  std::vector<std::string> texts;  // the documents' texts live here, as a node's objects do
  for (const char* name : {"a", "b", "c"})
    texts.push_back(std::string(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":")") + name +
                    R"("},"status":{"podIP":"127.0.1.1"}})");
  std::vector<InlineDocument> documents;
  for (std::size_t i = 0; i < texts.size(); ++i)
    documents.push_back({std::string("/registry/pods/default/") + "abc"[i], texts[i]});
  DocumentCache cache;
  const LoadResult first = load_files({}, documents, &cache);
  REQUIRE(first.ok());
  CHECK(cache.size() == 3);

  texts[1].replace(texts[1].find("127.0.1.1"), 9, "127.0.1.2");
  documents[1].text = texts[1];
  documents.erase(documents.begin() + 2);
  const LoadResult second = load_files({}, documents, &cache);
  REQUIRE(second.ok());
  CHECK(cache.size() == 2);  // c is gone, b's new text replaced its old one
  const PodList& pods = second.snapshot->pods;
  REQUIRE(pods.size() == 2);
  CHECK(pods.shared(0) == first.snapshot->pods.shared(0));  // the very object: not parsed again
  CHECK(pods.shared(1) != first.snapshot->pods.shared(1));
  CHECK(pods[1].pod_ip == "127.0.1.2");
}

TEST_CASE("diagnostics of many inline documents come out in load order, then by position") {
  std::vector<std::string> texts;
  for (int i = 0; i < 600; ++i)  // past the point where documents are read on every core
    texts.push_back(i % 2 ? "apiVersion: v1\nkind: Pod\nmetadata: {name: Bad_" + std::to_string(i) +
                                "}\n"
                          : "kind: Mystery\n");
  std::vector<InlineDocument> documents;
  for (int i = 0; i < 600; ++i)
    documents.push_back({"doc-" + std::to_string(i), texts[i]});
  const LoadResult result = load_files({}, documents);
  REQUIRE(result.errors.size() == 300);
  REQUIRE(result.warnings.size() == 300);
  for (std::size_t n = 0; n < 300; ++n) {
    CHECK(result.errors[n].location.file == "doc-" + std::to_string(2 * n + 1));
    CHECK(result.warnings[n].location.file == "doc-" + std::to_string(2 * n));
  }
}

TEST_CASE("every prefix of the demo example loads or fails cleanly, never throws") {
  std::ifstream in(examples_dir + "/demo.yaml");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  REQUIRE(text.size() > 100);
  for (std::size_t length = 0; length <= text.size(); length += 7) {
    CAPTURE(length);
    const LoadResult result = load(text.substr(0, length));
    CHECK(result.ok() == result.errors.empty());
  }
}

}  // namespace
}  // namespace svcproxy::conf

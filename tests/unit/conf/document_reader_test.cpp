#include "conf/document_reader.hpp"

#include <doctest/doctest.h>

#include <string>

#include "conf_test_support.hpp"

namespace svcproxy::conf {
namespace {

using testing::joined;

// Reads `text` as one document starting at 0-based line `first_line` of "test.yaml".
LoadState read(const std::string& text, int first_line = 0, LoadState state = {}) {
  YamlReader reader("test.yaml", state.errors, state.warnings);
  read_document_text({text, first_line}, reader, state);
  return state;
}

const char* const kService = R"(apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}, ports: [{port: 80}]}
)";

const char* const kProxyConfig = R"(apiVersion: svcproxy.io/v1
kind: ProxyConfig
spec: {workers: 2}
)";

}  // namespace

TEST_CASE("each kind goes to its own list of the snapshot") {
  const LoadState state = read(std::string(kService) + R"(---
apiVersion: v1
kind: Pod
metadata: {name: web-1, labels: {app: web}}
status: {podIP: 127.0.1.1}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  selector: {matchLabels: {app: api}}
  template: {metadata: {labels: {app: api}}}
)");
  INFO(joined(state.errors));
  CHECK(state.errors.empty());
  REQUIRE(state.snapshot.services.size() == 1);
  CHECK(state.snapshot.services[0].name == "web");
  REQUIRE(state.snapshot.pods.size() == 1);
  CHECK(state.snapshot.pods[0].pod_ip == "127.0.1.1");
  CHECK(state.snapshot.deployments.size() == 1);
}

TEST_CASE("diagnostics count the lines before the document") {
  const LoadState tab = read("apiVersion: v1\nkind: Pod\nmetadata:\n\tname: x\n", 10);
  REQUIRE(tab.errors.size() == 1);
  CHECK(tab.errors[0].to_string().starts_with("test.yaml:14:"));
  CHECK(tab.errors[0].message.starts_with("YAML syntax error: "));

  const LoadState unknown = read("apiVersion: v9\nkind: Gadget\n", 4);
  REQUIRE(unknown.warnings.size() == 1);
  CHECK(unknown.warnings[0].to_string() ==
        "test.yaml:5:1: skipping unknown kind Gadget (apiVersion v9)");
  CHECK(unknown.errors.empty());
}

TEST_CASE("a ProxyConfig is remembered, and a second one names the first") {
  const LoadState first = read(kProxyConfig, 2);
  CHECK(first.errors.empty());
  REQUIRE(first.proxy_config_at);
  CHECK(first.proxy_config_at->line == 3);
  CHECK(first.proxy_config_valid);
  CHECK(first.snapshot.proxy.workers == 2);

  const LoadState second = read(kProxyConfig, 20, first);
  REQUIRE(second.errors.size() == 1);
  CHECK(second.errors[0].to_string() ==
        "test.yaml:21:1: only one ProxyConfig is allowed (the first is at test.yaml:3:1)");
}

TEST_CASE("an invalid ProxyConfig is marked so, for allocation to stay out of it") {
  const LoadState state =
      read("apiVersion: svcproxy.io/v1\nkind: ProxyConfig\nspec: {workers: -1}\n");
  CHECK_FALSE(state.errors.empty());
  CHECK(state.proxy_config_at);
  CHECK_FALSE(state.proxy_config_valid);
}

TEST_CASE("a List is read item by item; empty documents and non-mappings add nothing") {
  const LoadState list = read(R"(apiVersion: v1
kind: List
items:
  - {apiVersion: v1, kind: Service, metadata: {name: a}, spec: {ports: [{port: 80}]}}
  - {apiVersion: v1, kind: Service, metadata: {name: b}, spec: {ports: [{port: 80}]}}
)");
  INFO(joined(list.errors));
  REQUIRE(list.snapshot.services.size() == 2);
  CHECK(list.snapshot.services[1].name == "b");

  const LoadState empty = read("");
  CHECK(empty.errors.empty());
  CHECK(empty.warnings.empty());
  const LoadState scalar = read("42\n");
  REQUIRE(scalar.warnings.size() == 1);
  CHECK(scalar.warnings[0].message == "skipping a document that is not a mapping");
  CHECK(scalar.snapshot.services.empty());
}

}  // namespace svcproxy::conf

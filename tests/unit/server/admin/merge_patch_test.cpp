// PATCH bodies applied as kube-apiserver applies them: JSON merge patch, JSON patch, and
// strategic merge patch with the merge keys and directives kubectl apply, patch and edit
// send. Expected orders follow patch.go (several are its own test cases, in API objects).
#include "server/admin/merge_patch.hpp"

#include <doctest/doctest.h>

#include <boost/json.hpp>
#include <string>

using namespace svcproxy::server;
namespace json = boost::json;

namespace {

json::object object_of(std::string_view text) {
  return json::parse(text).as_object();
}

// `patch` applied to `target`; fails the test case when the patch does not apply.
json::object patched(std::string_view target, std::string_view patch, PatchType type,
                     std::string_view kind) {
  const PatchOutcome outcome = apply_patch(object_of(target), json::parse(patch), type, kind);
  INFO("error: ", outcome.error, " at ", outcome.field);
  REQUIRE(outcome.object);
  CHECK(outcome.error.empty());
  return *outcome.object;
}

json::object strategic(std::string_view target, std::string_view patch, std::string_view kind) {
  return patched(target, patch, PatchType::StrategicMerge, kind);
}

// `patch` applied to `target`, expected to fail: no object, and a reason.
PatchOutcome refused(const json::object& target, const json::value& patch, PatchType type,
                     std::string_view kind = "Service") {
  PatchOutcome outcome = apply_patch(target, patch, type, kind);
  CHECK_FALSE(outcome.object);
  CHECK_FALSE(outcome.error.empty());
  return outcome;
}

PatchOutcome refused(std::string_view target, std::string_view patch, PatchType type,
                     std::string_view kind = "Service") {
  return refused(object_of(target), json::parse(patch), type, kind);
}

bool has_directive_keys(const json::value& value) {
  if (const auto* object = value.if_object()) {
    for (const auto& [key, item] : *object)
      if (key.starts_with('$') || has_directive_keys(item)) return true;
  } else if (const auto* list = value.if_array()) {
    for (const auto& item : *list)
      if (has_directive_keys(item)) return true;
  }
  return false;
}

// The names (or `key`s) of a list's elements, in order.
std::vector<std::string> keys_of(const json::value& list, std::string_view key = "name") {
  std::vector<std::string> keys;
  for (const auto& element : list.as_array()) {
    const auto& value = element.as_object().at(key);
    keys.push_back(value.is_string() ? std::string(value.as_string()) : json::serialize(value));
  }
  return keys;
}

const char* const kService = R"({
  "apiVersion": "v1", "kind": "Service",
  "metadata": {"name": "shop", "namespace": "default",
               "labels": {"app": "shop", "tier": "web", "track": "canary"},
               "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"}},
  "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.10",
           "selector": {"app": "shop", "tier": "web"},
           "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080},
                     {"name": "metrics", "port": 9090, "protocol": "TCP", "targetPort": 9090}]}})";

const char* const kDeployment = R"({
  "apiVersion": "apps/v1", "kind": "Deployment",
  "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"}},
  "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
           "strategy": {"type": "RollingUpdate",
                        "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
           "template": {"metadata": {"labels": {"app": "web"}},
                        "spec": {"affinity": {"podAntiAffinity": {}},
                                 "containers": [{"name": "web", "image": "nginx:1.25",
                                   "args": ["--port=8080"],
                                   "ports": [{"containerPort": 8080, "name": "http"}],
                                   "env": [{"name": "MODE", "value": "prod"},
                                           {"name": "LOG", "value": "info"}],
                                   "volumeMounts": [{"name": "data", "mountPath": "/data"}]}],
                                 "volumes": [{"name": "data", "emptyDir": {}}]}}}})";

}  // namespace

TEST_CASE("merge_patch: the Content-Type picks the patch type, its parameters and case aside") {
  CHECK(patch_type("application/merge-patch+json") == PatchType::Merge);
  CHECK(patch_type("application/strategic-merge-patch+json") == PatchType::StrategicMerge);
  CHECK(patch_type("application/json-patch+json") == PatchType::Json);
  CHECK(patch_type("application/merge-patch+json; charset=utf-8") == PatchType::Merge);
  CHECK(patch_type(" Application/JSON-Patch+JSON ;charset=UTF-8") == PatchType::Json);
  CHECK_FALSE(patch_type("application/apply-patch+yaml"));  // server-side apply
  CHECK_FALSE(patch_type("application/json"));
  CHECK_FALSE(patch_type(""));
}

TEST_CASE("merge_patch: a JSON merge patch merges objects, deletes with null, replaces lists") {
  const auto result = patched(kService, R"({
    "metadata": {"labels": {"tier": "api", "track": null},
                 "annotations": null,
                 "ownerReferences": [{"uid": "u-1", "kind": "App", "name": "shop"}]},
    "spec": {"ports": [{"name": "https", "port": 443, "targetPort": 8443}],
             "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 300, "unset": null}}}})",
                              PatchType::Merge, "Service");
  CHECK(result.at("metadata") == json::parse(R"({"name": "shop", "namespace": "default",
    "labels": {"app": "shop", "tier": "api"},
    "ownerReferences": [{"uid": "u-1", "kind": "App", "name": "shop"}]})"));
  // A list is replaced whole, merge key or not: that is what sets merge patch apart.
  CHECK(result.at("spec").at("ports") ==
        json::parse(R"([{"name": "https", "port": 443, "targetPort": 8443}])"));
  // A null inside a new object deletes nothing and is not kept.
  CHECK(result.at("spec").at("sessionAffinityConfig") ==
        json::parse(R"({"clientIP": {"timeoutSeconds": 300}})"));
  CHECK(result.at("spec").at("selector") == json::parse(R"({"app": "shop", "tier": "web"})"));
}

TEST_CASE("merge_patch: JSON patch adds, removes, replaces, moves, copies and tests") {
  const auto result = patched(kDeployment, R"([
    {"op": "test", "path": "/spec/replicas", "value": 2.0},
    {"op": "replace", "path": "/spec/replicas", "value": 3},
    {"op": "add", "path": "/metadata/annotations", "value": {}},
    {"op": "add", "path": "/metadata/annotations/example.com~1owner", "value": "team-a"},
    {"op": "add", "path": "/metadata/annotations/tilde~0key", "value": "x"},
    {"op": "add", "path": "/spec/template/spec/containers/0/env/-",
     "value": {"name": "DEBUG", "value": "1"}},
    {"op": "add", "path": "/spec/template/spec/containers/0/env/0",
     "value": {"name": "FIRST", "value": "0"}},
    {"op": "copy", "from": "/metadata/labels/app", "path": "/metadata/labels/component"},
    {"op": "move", "from": "/metadata/annotations/tilde~0key", "path": "/metadata/labels/moved"},
    {"op": "remove", "path": "/spec/template/metadata"},
    {"op": "test", "path": "/metadata/annotations", "value": {"example.com/owner": "team-a"}}])",
                              PatchType::Json, "Deployment");
  CHECK(result.at("spec").at("replicas") == 3);
  CHECK(result.at("metadata").at("annotations") ==
        json::parse(R"({"example.com/owner": "team-a"})"));
  CHECK(result.at("metadata").at("labels") ==
        json::parse(R"({"app": "web", "component": "web", "moved": "x"})"));
  const auto& container = result.at("spec").at("template").at("spec").at("containers").at(0);
  CHECK(keys_of(container.at("env")) == std::vector<std::string>{"FIRST", "MODE", "LOG", "DEBUG"});
  CHECK_FALSE(result.at("spec").at("template").as_object().contains("metadata"));

  // "" is the whole document.
  const auto replaced = patched(kService, R"([{"op": "replace", "path": "",
    "value": {"kind": "Service", "metadata": {"name": "other"}}}])",
                                PatchType::Json, "Service");
  CHECK(replaced == object_of(R"({"kind": "Service", "metadata": {"name": "other"}})"));
}

TEST_CASE("merge_patch: a JSON patch whose second operation fails applies nothing") {
  const auto outcome = refused(kService, R"([
    {"op": "replace", "path": "/spec/type", "value": "NodePort"},
    {"op": "remove", "path": "/spec/ports/5"}])",
                               PatchType::Json);
  CHECK(outcome.error.find("operation 2") != std::string::npos);
  CHECK(outcome.field == "spec.ports[5]");
}

TEST_CASE("merge_patch: a failed JSON patch test is an error") {
  const auto outcome = refused(kService, R"([
    {"op": "test", "path": "/spec/type", "value": "NodePort"},
    {"op": "replace", "path": "/spec/type", "value": "LoadBalancer"}])",
                               PatchType::Json);
  CHECK(outcome.field == "spec.type");
  CHECK(outcome.error.find("test failed") != std::string::npos);
  CHECK(outcome.error.find("\"ClusterIP\"") != std::string::npos);
  // A test compares whole values, numbers by value.
  patched(kService, R"([{"op": "test", "path": "/spec/ports/0",
    "value": {"targetPort": 8080.0, "protocol": "TCP", "port": 80, "name": "http"}}])",
          PatchType::Json, "Service");
  refused(kService, R"([{"op": "test", "path": "/spec/ports/0", "value": {"port": 80}}])",
          PatchType::Json);
}

TEST_CASE("merge_patch: JSON patch paths that do not resolve, and bad operations, are errors") {
  const auto field_of = [](std::string_view patch) {
    return refused(kService, patch, PatchType::Json).field;
  };
  CHECK(field_of(R"([{"op": "add", "path": "/spec/missing/x", "value": 1}])") == "spec.missing");
  CHECK(field_of(R"([{"op": "add", "path": "/spec/ports/3", "value": {}}])") == "spec.ports[3]");
  CHECK(field_of(R"([{"op": "replace", "path": "/spec/ports/01", "value": {}}])") ==
        "spec.ports[01]");
  CHECK(field_of(R"([{"op": "remove", "path": "/spec/ports/-"}])") == "spec.ports[-]");
  CHECK(field_of(R"([{"op": "replace", "path": "/metadata/uid", "value": "x"}])") ==
        "metadata.uid");
  CHECK(field_of(R"([{"op": "add", "path": "/spec/type/x", "value": 1}])") == "spec.type.x");
  CHECK(field_of(R"([{"op": "move", "from": "/spec", "path": "/spec/inner"}])") == "spec");
  refused(kService, R"([{"op": "add", "path": "/metadata/a~2b", "value": 1}])", PatchType::Json);
  refused(kService, R"([{"op": "add", "path": "metadata", "value": 1}])", PatchType::Json);
  refused(kService, R"([{"op": "add", "path": "/metadata/x"}])", PatchType::Json);
  refused(kService, R"([{"op": "copy", "path": "/metadata/x"}])", PatchType::Json);
  refused(kService, R"([{"op": "merge", "path": "/metadata"}])", PatchType::Json);
  refused(kService, R"([{"path": "/metadata"}])", PatchType::Json);
  refused(kService, R"([{"op": "remove", "path": ""}])", PatchType::Json);
  refused(kService, R"([{"op": "replace", "path": "", "value": [1]}])", PatchType::Json);
  refused(kService, R"([7])", PatchType::Json);
  // Appending at the end is a position; one past it is not.
  const auto appended = patched(kService, R"([{"op": "add", "path": "/spec/ports/2",
    "value": {"port": 443}}])",
                                PatchType::Json, "Service");
  CHECK(keys_of(appended.at("spec").at("ports"), "port") ==
        std::vector<std::string>{"80", "9090", "443"});
}

TEST_CASE("merge_patch: kubectl apply's three-way patch merges ports by port, in its order") {
  // The user's file moved https (new) before http and changed http's targetPort; metrics
  // is unchanged, so the patch names it in the order only.
  const auto result = strategic(kService, R"({
    "metadata": {"annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{\"v\":2}"}},
    "spec": {"$setElementOrder/ports": [{"port": 443}, {"port": 80}, {"port": 9090}],
             "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 8443},
                       {"port": 80, "targetPort": 8081}]}})",
                                "Service");
  CHECK(result.at("spec").at("ports") == json::parse(R"([
    {"name": "https", "port": 443, "protocol": "TCP", "targetPort": 8443},
    {"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8081},
    {"name": "metrics", "port": 9090, "protocol": "TCP", "targetPort": 9090}])"));
  CHECK(result.at("metadata")
            .at("annotations")
            .at("kubectl.kubernetes.io/last-applied-configuration") == "{\"v\":2}");
  CHECK(result.at("spec").at("clusterIP") == "10.96.0.10");
  CHECK_FALSE(has_directive_keys(result));

  // Without the order the patch's elements keep the patch's order, and metrics, which only
  // the server has, comes after them: patch.go puts a server-only element before a patch
  // element only when the old list had it before that one (https had no place there).
  const auto unordered = strategic(kService, R"({"spec": {"ports": [
    {"port": 80, "targetPort": 8081}, {"name": "https", "port": 443}]}})",
                                   "Service");
  CHECK(keys_of(unordered.at("spec").at("ports")) ==
        std::vector<std::string>{"http", "https", "metrics"});
}

TEST_CASE("merge_patch: $patch: delete removes a port by its merge key") {
  const auto result = strategic(kService, R"({"spec": {
    "$setElementOrder/ports": [{"port": 80}],
    "ports": [{"$patch": "delete", "port": 9090}]}})",
                                "Service");
  CHECK(keys_of(result.at("spec").at("ports")) == std::vector<std::string>{"http"});
  // Deleting what is not there is no error.
  const auto unchanged =
      strategic(kService, R"({"spec": {"ports": [{"$patch": "delete", "port": 7}]}})", "Service");
  CHECK(unchanged == object_of(kService));
}

TEST_CASE("merge_patch: a strategic patch changes a label and deletes one with null") {
  const auto result =
      strategic(kService, R"({"metadata": {"labels": {"tier": "api", "track": null}}})", "Service");
  CHECK(result.at("metadata").at("labels") == json::parse(R"({"app": "shop", "tier": "api"})"));
  CHECK(result.at("spec") == object_of(kService).at("spec"));
  // A null for what is not there deletes nothing and is not kept.
  const auto same = strategic(kService, R"({"metadata": {"finalizers": null}})", "Service");
  CHECK(same == object_of(kService));
}

TEST_CASE("merge_patch: $patch: replace makes spec.selector the patch's own") {
  const auto replaced = strategic(
      kService, R"({"spec": {"selector": {"$patch": "replace", "app": "cart"}}})", "Service");
  CHECK(replaced.at("spec").at("selector") == json::parse(R"({"app": "cart"})"));
  const auto merged = strategic(kService, R"({"spec": {"selector": {"app": "cart"}}})", "Service");
  CHECK(merged.at("spec").at("selector") == json::parse(R"({"app": "cart", "tier": "web"})"));
  // $patch: merge is the default, said out loud.
  const auto said = strategic(
      kService, R"({"spec": {"selector": {"$patch": "merge", "app": "cart"}}})", "Service");
  CHECK(said == merged);
}

TEST_CASE("merge_patch: $patch: replace in a list element replaces the whole list") {
  const auto result = strategic(kService, R"({"spec": {"ports": [
    {"$patch": "replace"}, {"name": "https", "port": 443, "targetPort": 8443}]}})",
                                "Service");
  CHECK(result.at("spec").at("ports") ==
        json::parse(R"([{"name": "https", "port": 443, "targetPort": 8443}])"));
}

TEST_CASE("merge_patch: $retainKeys switches a Deployment from RollingUpdate to Recreate") {
  // As kubectl apply sends it: strategy's patchStrategy is retainKeys.
  const auto result = strategic(kDeployment, R"({"spec": {"strategy": {
    "$retainKeys": ["type"], "rollingUpdate": null, "type": "Recreate"}}})",
                                "Deployment");
  CHECK(result.at("spec").at("strategy") == json::parse(R"({"type": "Recreate"})"));
  // The list alone drops rollingUpdate, as without it a Recreate Deployment is invalid.
  const auto listed = strategic(
      kDeployment, R"({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}})",
      "Deployment");
  CHECK(listed.at("spec").at("strategy") == json::parse(R"({"type": "Recreate"})"));
  // Keys it lists are merged as usual.
  const auto kept = strategic(kDeployment, R"({"spec": {"strategy": {
    "$retainKeys": ["rollingUpdate", "type"], "rollingUpdate": {"maxSurge": 1}}}})",
                              "Deployment");
  CHECK(kept.at("spec").at("strategy") == json::parse(R"({"type": "RollingUpdate",
    "rollingUpdate": {"maxSurge": 1, "maxUnavailable": "25%"}})"));
  // The patch may set nothing it does not retain.
  const auto outcome = refused(kDeployment, R"({"spec": {"strategy": {
    "$retainKeys": ["type"], "type": "Recreate", "rollingUpdate": {"maxSurge": 1}}}})",
                               PatchType::StrategicMerge, "Deployment");
  CHECK(outcome.field == "spec.strategy.rollingUpdate");
}

TEST_CASE("merge_patch: containers merge by name, their ports, env and mounts by their keys") {
  const auto result = strategic(kDeployment, R"({"spec": {"template": {"spec": {"containers": [
    {"name": "web", "image": "nginx:1.26",
     "ports": [{"containerPort": 8080, "protocol": "TCP"}],
     "env": [{"name": "LOG", "value": "debug"}],
     "volumeMounts": [{"mountPath": "/data", "readOnly": true}]}]}}}})",
                                "Deployment");
  const auto& pod_spec = result.at("spec").at("template").at("spec");
  CHECK(pod_spec.at("containers") == json::parse(R"([{"name": "web", "image": "nginx:1.26",
    "args": ["--port=8080"],
    "ports": [{"containerPort": 8080, "name": "http", "protocol": "TCP"}],
    "env": [{"name": "MODE", "value": "prod"}, {"name": "LOG", "value": "debug"}],
    "volumeMounts": [{"name": "data", "mountPath": "/data", "readOnly": true}]}])"));
  CHECK(pod_spec.at("volumes") == json::parse(R"([{"name": "data", "emptyDir": {}}])"));

  // `kubectl patch` adding a container, as in the Kubernetes docs' "Update API Objects in
  // Place Using kubectl patch": with no $setElementOrder the patch's new element comes
  // first, since patch.go places the server's elements only by their old neighbours.
  const auto added = strategic(kDeployment, R"({"spec": {"template": {"spec": {"containers": [
    {"name": "log-tailer", "image": "busybox"}]}}}})",
                               "Deployment");
  CHECK(keys_of(added.at("spec").at("template").at("spec").at("containers")) ==
        std::vector<std::string>{"log-tailer", "web"});
}

TEST_CASE("merge_patch: elements the order does not name keep their place beside the others") {
  // patch.go's "set elements order in a list with server-only items 2", as a Pod's env:
  // NINE was added by someone else (a webhook), the user reorders the rest.
  const char* const pod = R"({"kind": "Pod", "metadata": {"name": "web-0"},
    "spec": {"containers": [{"name": "web", "image": "nginx", "env": [
      {"name": "ONE", "value": "1"}, {"name": "TWO", "value": "2"}, {"name": "NINE", "value": "9"},
      {"name": "THREE", "value": "3"}, {"name": "FOUR", "value": "4"}]}]}})";
  const auto result = strategic(pod, R"({"spec": {
    "$setElementOrder/containers": [{"name": "web"}],
    "containers": [{"name": "web", "$setElementOrder/env": [
      {"name": "TWO"}, {"name": "ONE"}, {"name": "FOUR"}, {"name": "THREE"}]}]}})",
                                "Pod");
  CHECK(keys_of(result.at("spec").at("containers").at(0).at("env")) ==
        std::vector<std::string>{"TWO", "ONE", "NINE", "FOUR", "THREE"});
  CHECK(result.at("spec").at("containers").at(0).at("env").at(0) ==
        json::parse(R"({"name": "TWO", "value": "2"})"));
}

TEST_CASE("merge_patch: finalizers merge as a union in order; $deleteFromPrimitiveList drops") {
  const char* const secret = R"({"kind": "Secret", "metadata": {"name": "tls",
    "finalizers": ["example.com/a", "example.com/b"]}, "data": {"tls.crt": "Y2VydA=="}})";
  const auto added = strategic(
      secret, R"({"metadata": {"finalizers": ["example.com/b", "example.com/c"]}})", "Secret");
  CHECK(added.at("metadata").at("finalizers") ==
        json::parse(R"(["example.com/a", "example.com/b", "example.com/c"])"));
  const auto dropped = strategic(
      secret, R"({"metadata": {"$deleteFromPrimitiveList/finalizers": ["example.com/a"]}})",
      "Secret");
  CHECK(dropped.at("metadata").at("finalizers") == json::parse(R"(["example.com/b"])"));

  // patch.go's "add an item in a list of primitives and preserve order": 4 is server-only.
  const char* const numbered = R"({"kind": "Pod", "metadata": {"name": "p",
    "finalizers": ["one", "four", "two"]}})";
  const auto ordered = strategic(numbered, R"({"metadata": {
    "$setElementOrder/finalizers": ["three", "one", "two"], "finalizers": ["three"]}})",
                                 "Pod");
  CHECK(ordered.at("metadata").at("finalizers") ==
        json::parse(R"(["three", "one", "four", "two"])"));
  // patch.go's "delete items in lists of scalars", from kubectl apply.
  const char* const four = R"({"kind": "Pod", "metadata": {"name": "p",
    "finalizers": ["one", "two", "three", "four"]}})";
  const auto trimmed = strategic(four, R"({"metadata": {
    "$setElementOrder/finalizers": ["one", "two"],
    "$deleteFromPrimitiveList/finalizers": ["three"]}})",
                                 "Pod");
  CHECK(trimmed.at("metadata").at("finalizers") == json::parse(R"(["one", "two", "four"])"));
}

TEST_CASE("merge_patch: lists without a merge key are replaced whole") {
  const char* const pod = R"({"kind": "Pod", "metadata": {"name": "web-0"},
    "spec": {"tolerations": [{"key": "a", "operator": "Exists"}],
             "containers": [{"name": "web", "image": "nginx", "args": ["--a", "--b"]}]}})";
  const auto result = strategic(pod, R"({"spec": {
    "tolerations": [{"key": "b", "operator": "Exists", "effect": "NoSchedule"}],
    "containers": [{"name": "web", "args": ["--c"]}]}})",
                                "Pod");
  CHECK(result.at("spec").at("tolerations") ==
        json::parse(R"([{"key": "b", "operator": "Exists", "effect": "NoSchedule"}])"));
  CHECK(result.at("spec").at("containers") ==
        json::parse(R"([{"name": "web", "image": "nginx", "args": ["--c"]}])"));

  const char* const endpoints = R"({"kind": "Endpoints", "metadata": {"name": "shop"},
    "subsets": [{"addresses": [{"ip": "10.0.0.1"}], "ports": [{"port": 80}]}]})";
  const auto moved = strategic(
      endpoints, R"({"subsets": [{"addresses": [{"ip": "10.0.0.2"}], "ports": [{"port": 80}]}]})",
      "Endpoints");
  CHECK(moved.at("subsets") ==
        json::parse(R"([{"addresses": [{"ip": "10.0.0.2"}], "ports": [{"port": 80}]}])"));
}

TEST_CASE("merge_patch: the kind picks the merge keys, resolved by the path in the object") {
  // containers merge by name at a Deployment's spec.template.spec, not at a Pod's.
  const char* const shaped = R"({"spec": {"template": {"spec": {"containers": [
    {"name": "web", "image": "a"}]}}}})";
  const char* const patch = R"({"spec": {"template": {"spec": {"containers": [
    {"name": "sidecar", "image": "b"}]}}}})";
  CHECK(strategic(shaped, patch, "Deployment")
            .at("spec")
            .at("template")
            .at("spec")
            .at("containers")
            .as_array()
            .size() == 2);
  CHECK(strategic(shaped, patch, "Pod")
            .at("spec")
            .at("template")
            .at("spec")
            .at("containers")
            .as_array()
            .size() == 1);

  const auto pod = strategic(R"({"kind": "Pod", "status": {"phase": "Running", "conditions": [
    {"type": "Ready", "status": "True"}, {"type": "PodScheduled", "status": "True"}]}})",
                             R"({"status": {"conditions": [{"type": "Ready", "status": "False",
    "reason": "ContainersNotReady"}]}})",
                             "Pod");
  CHECK(pod.at("status").at("conditions") == json::parse(R"([
    {"type": "Ready", "status": "False", "reason": "ContainersNotReady"},
    {"type": "PodScheduled", "status": "True"}])"));

  // Every kind's metadata: ownerReferences merge by uid.
  const auto owned = strategic(R"({"kind": "Secret", "metadata": {"name": "s",
    "ownerReferences": [{"uid": "u-1", "kind": "App", "name": "a"}]}})",
                               R"({"metadata": {"ownerReferences": [
    {"uid": "u-2", "kind": "App", "name": "b"}]}})",
                               "Secret");
  CHECK(keys_of(owned.at("metadata").at("ownerReferences"), "uid") ==
        std::vector<std::string>{"u-2", "u-1"});
  // A kind it does not know still patches (the scale subresource).
  const auto scale = strategic(R"({"kind": "Scale", "spec": {"replicas": 2}})",
                               R"({"spec": {"replicas": 5}})", "Scale");
  CHECK(scale.at("spec").at("replicas") == 5);
}

TEST_CASE("merge_patch: directive keys never reach the result, even in new elements") {
  const auto result = strategic(kDeployment, R"({"spec": {"template": {"spec": {
    "$setElementOrder/containers": [{"name": "web"}, {"name": "sidecar"}],
    "containers": [{"name": "sidecar", "image": "envoy:1.29",
      "$setElementOrder/env": [{"name": "A"}],
      "env": [{"name": "A", "value": "1"}, {"name": "GONE", "$patch": "delete"}],
      "ports": [{"containerPort": 9901, "name": "admin"}],
      "resources": {"$retainKeys": ["limits"], "limits": {"cpu": "100m", "memory": null}},
      "securityContext": {"$patch": "delete"},
      "lifecycle": null}],
    "affinity": {"$patch": "delete"}}}}})",
                                "Deployment");
  CHECK_FALSE(has_directive_keys(result));
  const auto& pod_spec = result.at("spec").at("template").at("spec").as_object();
  CHECK_FALSE(pod_spec.contains("affinity"));  // $patch: delete removed the map
  CHECK(keys_of(pod_spec.at("containers")) == std::vector<std::string>{"web", "sidecar"});
  CHECK(pod_spec.at("containers").at(1) == json::parse(R"({"name": "sidecar",
    "image": "envoy:1.29", "env": [{"name": "A", "value": "1"}],
    "ports": [{"containerPort": 9901, "name": "admin"}],
    "resources": {"limits": {"cpu": "100m"}}})"));
  CHECK(pod_spec.at("containers").at(0) ==
        object_of(kDeployment).at("spec").at("template").at("spec").at("containers").at(0));
}

TEST_CASE("merge_patch: a malformed patch is an error, never a crash") {
  const json::object service = object_of(kService);
  for (const PatchType type : {PatchType::Merge, PatchType::StrategicMerge, PatchType::Json})
    refused(service, json::value("spec.type=NodePort"), type);
  refused(service, json::parse(R"([{"op": "remove", "path": "/spec"}])"), PatchType::Merge);
  refused(service, json::parse(R"([{"spec": {}}])"), PatchType::StrategicMerge);
  refused(service, json::parse(R"({"spec": {"type": "NodePort"}})"), PatchType::Json);
  refused(service, json::value(nullptr), PatchType::Merge);

  const auto field_of = [&](std::string_view patch) {
    return refused(kService, patch, PatchType::StrategicMerge).field;
  };
  CHECK(field_of(R"({"spec": {"ports": [80]}})") == "spec.ports[0]");
  CHECK(field_of(R"({"spec": {"ports": [{"port": 80}, {"name": "https"}]}})") == "spec.ports[1]");
  CHECK(field_of(R"({"spec": {"ports": [{"$patch": "delete", "name": "http"}]}})") ==
        "spec.ports[0]");
  CHECK(field_of(R"({"spec": {"selector": {"$patch": "explode"}}})") == "spec.selector");
  CHECK(field_of(R"({"spec": {"ports": [{"$patch": 1, "port": 80}]}})") == "spec.ports[0]");
  CHECK(field_of(R"({"spec": {"$foo": 1}})") == "spec");
  CHECK(field_of(R"({"spec": {"$setElementOrder": [], "$setElementOrder/": []}})") == "spec");
  CHECK(field_of(R"({"spec": {"$setElementOrder/ports": {"port": 80}}})") == "spec");
  CHECK(field_of(R"({"spec": {"$setElementOrder/ports": [{"name": "http"}],
    "ports": [{"port": 80}]}})") == "spec.ports");
  CHECK(field_of(R"({"spec": {"$setElementOrder/ports": [{"port": 9090}, {"port": 80}],
    "ports": [{"port": 80, "targetPort": 1}, {"port": 9090, "targetPort": 2}]}})") == "spec.ports");
  CHECK(field_of(R"({"spec": {"$retainKeys": "type"}})") == "spec");
  refused(kService, R"({"$patch": "delete"})", PatchType::StrategicMerge);

  // Nested past any API object: refused, not recursed into until the stack runs out.
  json::value deep = 1;
  for (int i = 0; i < 500; ++i) {
    json::object level;
    level["nested"] = std::move(deep);
    deep = std::move(level);
  }
  json::object deep_patch;
  deep_patch["spec"] = deep;
  for (const PatchType type : {PatchType::Merge, PatchType::StrategicMerge})
    CHECK(refused(service, deep_patch, type).error.find("deeper") != std::string::npos);
  // A JSON patch copies such a value without looking into it, but a test compares inside.
  json::array deep_test;
  deep_test.push_back(json::object{{"op", "add"}, {"path", "/spec/deep"}, {"value", deep}});
  deep_test.push_back(json::object{{"op", "test"}, {"path", "/spec/deep"}, {"value", deep}});
  CHECK(refused(service, deep_test, PatchType::Json).error.find("deeper") != std::string::npos);
}

#include "server/admin/admin_api.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <cctype>
#include <chrono>
#include <set>
#include <vector>

#include "server/admin/api_watch.hpp"
#include "server/admin/kube_json.hpp"
#include "server/admin/kube_selectors.hpp"
#include "server/admin/kube_table.hpp"

namespace svcproxy::server {
namespace json = boost::json;

namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> parts;
  while (!path.empty()) {
    const auto slash = path.find('/');
    if (slash != 0) parts.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return parts;
}

// What discovery says about a resource, and where it lives.
struct ResourceInfo {
  ApiResource resource;
  const char* group;  // "" for the core group
  const char* plural;
  const char* singular;
  const char* kind;
  bool namespaced;
  const char* short_name;  // "" for none
  bool in_all;             // in the "all" category (kubectl get all)
};

constexpr ResourceInfo kResources[] = {
    {ApiResource::Services, "", "services", "service", "Service", true, "svc", true},
    {ApiResource::Endpoints, "", "endpoints", "endpoints", "Endpoints", true, "ep", false},
    {ApiResource::Pods, "", "pods", "pod", "Pod", true, "po", true},
    {ApiResource::Nodes, "", "nodes", "node", "Node", false, "no", false},
    {ApiResource::Namespaces, "", "namespaces", "namespace", "Namespace", false, "ns", false},
    {ApiResource::Events, "", "events", "event", "Event", true, "ev", false},
    {ApiResource::Deployments, "apps", "deployments", "deployment", "Deployment", true, "deploy",
     true},
    {ApiResource::EndpointSlices, "discovery.k8s.io", "endpointslices", "endpointslice",
     "EndpointSlice", true, "", false},
};

const ResourceInfo& info(ApiResource resource) {
  for (const auto& entry : kResources)
    if (entry.resource == resource) return entry;
  return kResources[0];
}

std::string api_version(const ResourceInfo& entry) {
  return *entry.group ? std::string(entry.group) + "/v1" : "v1";
}

}  // namespace

json::object api_status(int code, const char* reason, std::string message, json::object details) {
  json::object status{{"kind", "Status"},
                      {"apiVersion", "v1"},
                      {"metadata", json::object{}},
                      {"status", "Failure"},
                      {"message", std::move(message)},
                      {"reason", reason},
                      {"code", code}};
  if (!details.empty()) status["details"] = std::move(details);
  return status;
}

namespace {

json::object status_json(int code, const char* reason, std::string message,
                         json::object details = {}) {
  return api_status(code, reason, std::move(message), std::move(details));
}

// A v1 Status, as the Kubernetes API answers a missing object.
json::object not_found(const ApiPath& path) {
  const ResourceInfo& entry = info(path.resource);
  std::string what = entry.plural;
  if (*entry.group) what += std::string(".") + entry.group;
  return status_json(404, "NotFound", what + " \"" + path.name + "\" not found",
                     {{"name", path.name}, {"kind", entry.plural}});
}

std::string percent_decoded(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%' && i + 2 < text.size() &&
               std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

// The API objects a path lists, before selectors: every namespace's or one's.
struct Listed {
  std::vector<json::object> items;
};

bool in_namespace(const ApiPath& path, const std::string& namespace_name) {
  return path.namespace_name.empty() || namespace_name == path.namespace_name;
}

std::vector<conf::NodeRef> known_nodes(const conf::ProxySettings& proxy) {
  std::vector<conf::NodeRef> nodes = proxy.nodes;
  bool listed = false;
  for (auto& node : nodes)
    if (node.name == proxy.node_name) {
      listed = true;
      node.zone = proxy.zone;  // this node's own zone is the one it routes by
    }
  if (!proxy.node_name.empty() && !listed)
    nodes.push_back(
        {proxy.node_name,
         proxy.node_port_addresses.empty() ? std::string() : proxy.node_port_addresses.front(),
         proxy.zone});
  return nodes;
}

std::vector<json::object> objects_of(const ApiPath& path, const conf::Snapshot& snapshot,
                                     const discovery::BackendMap& backends,
                                     lb::Clock::time_point now) {
  std::vector<json::object> items;
  switch (path.resource) {
    case ApiResource::Services:
    case ApiResource::Endpoints:
    case ApiResource::EndpointSlices:
      for (const auto& service : snapshot.services) {
        if (!in_namespace(path, service.namespace_name)) continue;
        if (path.resource == ApiResource::Services)
          items.push_back(service_json(service, snapshot.proxy));
        else if (path.resource == ApiResource::Endpoints)
          items.push_back(endpoints_json(service, backends, now));
        else
          for (auto& slice : endpoint_slices_json(service, backends, now))
            items.push_back(std::move(slice));
      }
      break;
    case ApiResource::Pods: {
      const auto readiness = pod_readiness(backends, now);
      for (const auto& pod : snapshot.pods) {
        if (!in_namespace(path, pod.namespace_name)) continue;
        const auto ready = readiness.find(pod.key());
        items.push_back(
            pod_json(pod, ready == readiness.end() ? std::nullopt : std::optional(ready->second)));
      }
      break;
    }
    case ApiResource::Deployments: {
      const auto readiness = pod_readiness(backends, now);
      for (const auto& deployment : snapshot.deployments) {
        if (!in_namespace(path, deployment.namespace_name)) continue;
        int pods = 0, ready = 0;
        for (const auto& pod : snapshot.pods) {
          if (pod.namespace_name != deployment.namespace_name ||
              pod.owner_deployment != deployment.name)
            continue;
          ++pods;
          const auto found = readiness.find(pod.key());
          ready += found == readiness.end() || found->second;
        }
        items.push_back(deployment_json(deployment, pods, ready));
      }
      break;
    }
    case ApiResource::Nodes:
      for (const auto& node : known_nodes(snapshot.proxy))
        items.push_back(node_json(node));
      break;
    case ApiResource::Namespaces: {
      std::set<std::string> names{"default"};
      names.insert(snapshot.namespaces.begin(), snapshot.namespaces.end());
      for (const auto& service : snapshot.services)
        names.insert(service.namespace_name);
      for (const auto& pod : snapshot.pods)
        names.insert(pod.namespace_name);
      for (const auto& deployment : snapshot.deployments)
        names.insert(deployment.namespace_name);
      for (const auto& name : names)
        items.push_back(namespace_json(name));
      break;
    }
    case ApiResource::Events:
      break;  // svcproxy keeps no events: its log says what happened
  }
  return items;
}

conf::Labels labels_of(const json::object& object) {
  conf::Labels labels;
  const auto* metadata = object.if_contains("metadata");
  const auto* found =
      metadata && metadata->is_object() ? metadata->as_object().if_contains("labels") : nullptr;
  if (found && found->is_object())
    for (const auto& [key, value] : found->as_object())
      if (value.is_string()) labels[std::string(key)] = std::string(value.as_string());
  return labels;
}

// The field a field selector names, for an object; nullopt when the resource has no such
// field (every resource has metadata.name and metadata.namespace, as in Kubernetes).
std::optional<std::string> field_of(const json::object& object, ApiResource resource,
                                    const std::string& field) {
  if (field == "metadata.name") return string_at(object, "metadata", "name");
  if (field == "metadata.namespace") return string_at(object, "metadata", "namespace");
  if (resource == ApiResource::Pods && field == "spec.nodeName")
    return string_at(object, "spec", "nodeName");
  if (resource == ApiResource::Pods && field == "status.phase")
    return string_at(object, "status", "phase");
  if (resource == ApiResource::Pods && field == "status.podIP")
    return string_at(object, "status", "podIP");
  if (resource == ApiResource::Services && field == "spec.type")
    return string_at(object, "spec", "type");
  if (resource == ApiResource::Events && field.starts_with("involvedObject.")) return "";
  return std::nullopt;
}

bool writable_resource(ApiResource resource) {
  return resource == ApiResource::Services || resource == ApiResource::Pods ||
         resource == ApiResource::Deployments;
}

// Changes whenever the documents below do, so kubectl's cache (keyed by it) never serves an
// old one.
constexpr const char* kOpenApiHash = "svcproxy-" SVCPROXY_VERSION "-1";

// Just enough OpenAPI v3 for kubectl to learn that the server validates what it is sent
// (the fieldValidation parameter on each kind's PATCH, as kubectl's QueryParamVerifierV3
// looks for it), so it skips its client-side validation, which would need every type's
// full schema. No schemas: kubectl apply then computes its patches from its own types.
std::optional<ApiAnswer> answer_openapi(const std::vector<std::string_view>& parts) {
  if (parts.size() == 2) {
    json::object paths;
    for (const char* group_version : {"api/v1", "apis/apps/v1"})
      paths[group_version] = {{"serverRelativeURL", std::string("/openapi/v3/") + group_version +
                                                        "?hash=" + kOpenApiHash}};
    return ApiAnswer{200, json::object{{"paths", std::move(paths)}}};
  }
  std::string_view group;
  if (parts.size() == 4 && parts[2] == "api" && parts[3] == "v1")
    group = "";
  else if (parts.size() == 5 && parts[2] == "apis" && parts[3] == "apps" && parts[4] == "v1")
    group = "apps";
  else
    return std::nullopt;
  json::object paths;
  for (const auto& entry : kResources) {
    if (group != entry.group ||
        !(writable_resource(entry.resource) || entry.resource == ApiResource::Namespaces))
      continue;
    const std::string prefix =
        *entry.group ? "/apis/" + std::string(entry.group) + "/v1" : "/api/v1";
    const std::string path =
        prefix + (entry.namespaced ? "/namespaces/{namespace}/" : "/") + entry.plural + "/{name}";
    json::object patch{{"x-kubernetes-action", "patch"},
                       {"x-kubernetes-group-version-kind",
                        {{"group", entry.group}, {"version", "v1"}, {"kind", entry.kind}}},
                       {"parameters", json::array{json::object{{"name", "fieldValidation"},
                                                               {"in", "query"},
                                                               {"schema", {{"type", "string"}}}}}}};
    paths[path] = {{"patch", std::move(patch)}};
  }
  return ApiAnswer{200,
                   json::object{{"openapi", "3.0.0"},
                                {"info", {{"title", "svcproxy"}, {"version", SVCPROXY_VERSION}}},
                                {"paths", std::move(paths)}}};
}

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

std::optional<ApiPath> parse_api_path(std::string_view path) {
  const auto parts = split_path(path);
  std::size_t next = 0;
  std::string_view group;
  if (parts.size() >= 2 && parts[0] == "api" && parts[1] == "v1") {
    next = 2;
  } else if (parts.size() >= 3 && parts[0] == "apis" && parts[2] == "v1") {
    group = parts[1];
    next = 3;
  } else {
    return std::nullopt;
  }
  if (parts.size() <= next) return std::nullopt;
  ApiPath result;
  if (parts[next] == "namespaces" && parts.size() >= next + 3) {
    result.namespace_name = std::string(parts[next + 1]);
    next += 2;
  }
  const ResourceInfo* found = nullptr;
  for (const auto& entry : kResources)
    if (parts[next] == entry.plural && group == entry.group) found = &entry;
  if (found && found->resource == ApiResource::Deployments && parts.size() == next + 3 &&
      parts[next + 2] == "scale" && !result.namespace_name.empty()) {
    result.subresource = "scale";
  } else if (!found || parts.size() > next + 2) {
    return std::nullopt;
  }
  if (!found->namespaced && !result.namespace_name.empty()) return std::nullopt;
  if (parts.size() >= next + 2) {
    // A namespaced object is named within its namespace.
    if (found->namespaced && result.namespace_name.empty()) return std::nullopt;
    result.name = std::string(parts[next + 1]);
  }
  result.resource = found->resource;
  return result;
}

ApiQuery parse_api_query(std::string_view query, std::string_view accept) {
  ApiQuery result;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const auto equals = pair.find('=');
    const std::string_view key = pair.substr(0, equals);
    const std::string value =
        equals == std::string_view::npos ? std::string() : percent_decoded(pair.substr(equals + 1));
    if (key == "labelSelector") result.label_selector = value;
    if (key == "fieldSelector") result.field_selector = value;
    if (key == "watch") result.watch = value == "true" || value == "1";
    if (key == "resourceVersion") result.resource_version = value;
    if (key == "timeoutSeconds") {
      try {
        result.timeout_seconds = std::max(0, std::stoi(value));
      } catch (const std::exception&) {
      }
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  // kubectl get: "application/json;as=Table;v=v1;g=meta.k8s.io,application/json..."
  result.table = accept.find("as=Table") != std::string_view::npos;
  return result;
}

std::optional<std::vector<json::object>> list_items(const ApiPath& path, const ApiQuery& query,
                                                    const conf::Snapshot& snapshot,
                                                    const discovery::BackendMap& backends,
                                                    lb::Clock::time_point now, ApiAnswer& refused,
                                                    const ResourceVersions& versions) {
  std::string error;
  const auto labels = LabelSelector::parse(query.label_selector, error);
  const auto fields = labels ? FieldSelector::parse(query.field_selector, error) : std::nullopt;
  if (!labels || !fields) {
    refused = {400, status_json(400, "BadRequest", error)};
    return std::nullopt;
  }
  for (const auto& field : fields->fields())
    if (!field_of(json::object{}, path.resource, field)) {
      refused = {400, status_json(400, "BadRequest",
                                  "field label not supported: " + field + " (for " +
                                      info(path.resource).plural + ")")};
      return std::nullopt;
    }
  std::vector<json::object> items;
  for (auto& item : objects_of(path, snapshot, backends, now)) {
    if (!path.name.empty() && string_at(item, "metadata", "name") != path.name) continue;
    if (!labels->matches(labels_of(item))) continue;
    if (!fields->matches(
            [&](const std::string& field) { return field_of(item, path.resource, field); }))
      continue;
    if (versions) {
      std::string version = versions(path.resource, string_at(item, "metadata", "namespace"),
                                     string_at(item, "metadata", "name"));
      if (!version.empty()) item["metadata"].as_object()["resourceVersion"] = std::move(version);
    }
    items.push_back(std::move(item));
  }
  return items;
}

ApiAnswer answer_api(const ApiPath& path, const ApiQuery& query, const conf::Snapshot& snapshot,
                     const discovery::BackendMap& backends, lb::Clock::time_point now,
                     const ResourceVersions& versions) {
  ApiAnswer refused;
  auto items = list_items(path, query, snapshot, backends, now, refused, versions);
  if (!items) return refused;
  const ResourceInfo& entry = info(path.resource);
  // A list's version, and a Table's of one object: kubectl watches from it (for one
  // object, with a fieldSelector on its name: the same list of one).
  const std::string version = list_version(*items);
  if (!path.name.empty()) {
    if (items->empty()) return {404, not_found(path)};
    if (path.subresource == "scale") return {200, scale_json(items->front())};
    if (!query.table) return {200, std::move(items->front())};
  }
  if (query.table) {
    json::object table = table_json(path.resource, *items, unix_now());
    table["metadata"] = {{"resourceVersion", version}};
    return {200, std::move(table)};
  }
  json::array list;
  for (auto& item : *items)
    list.push_back(std::move(item));
  return {200, json::object{{"kind", std::string(entry.kind) + "List"},
                            {"apiVersion", api_version(entry)},
                            {"metadata", {{"resourceVersion", version}}},
                            {"items", std::move(list)}}};
}

json::object watch_event(const char* type, const json::object& object, ApiResource resource,
                         const ApiQuery& query) {
  if (!query.table) return {{"type", type}, {"object", object}};
  return {{"type", type}, {"object", table_json(resource, {object}, unix_now())}};
}

json::object watch_gone(const std::string& resource_version) {
  return {{"type", "ERROR"},
          {"object", status_json(410, "Expired",
                                 "too old resource version: " + resource_version +
                                     " (the objects changed since; list again)")}};
}

std::optional<ApiAnswer> answer_discovery(std::string_view path, std::string_view server_address,
                                          bool writable) {
  const auto parts = split_path(path);
  if (parts.size() == 1 && parts[0] == "version")
    return ApiAnswer{200, json::object{{"major", "1"},
                                       {"minor", "31"},
                                       {"gitVersion", "v1.31.0+svcproxy-" SVCPROXY_VERSION},
                                       {"gitCommit", ""},
                                       {"gitTreeState", "clean"},
                                       {"buildDate", ""},
                                       {"goVersion", ""},
                                       {"compiler", "svcproxy"},
                                       {"platform", "linux/amd64"}}};
  if (parts.size() == 1 && parts[0] == "api")
    return ApiAnswer{200,
                     json::object{{"kind", "APIVersions"},
                                  {"versions", json::array{"v1"}},
                                  {"serverAddressByClientCIDRs",
                                   json::array{json::object{{"clientCIDR", "0.0.0.0/0"},
                                                            {"serverAddress", server_address}}}}}};
  if (parts.size() == 1 && parts[0] == "apis") {
    json::array groups;
    for (const char* group : {"apps", "discovery.k8s.io"}) {
      const json::object version{{"groupVersion", std::string(group) + "/v1"}, {"version", "v1"}};
      groups.push_back(
          {{"name", group}, {"versions", json::array{version}}, {"preferredVersion", version}});
    }
    return ApiAnswer{
        200, json::object{
                 {"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", std::move(groups)}}};
  }
  if (parts.size() >= 2 && parts[0] == "openapi" && parts[1] == "v3") return answer_openapi(parts);
  std::string_view group;
  if (parts.size() == 2 && parts[0] == "api" && parts[1] == "v1")
    group = "";
  else if (parts.size() == 3 && parts[0] == "apis" && parts[2] == "v1")
    group = parts[1];
  else
    return std::nullopt;
  json::array resources;
  for (const auto& entry : kResources) {
    if (group != entry.group) continue;
    json::object resource{{"name", entry.plural},
                          {"singularName", entry.singular},
                          {"namespaced", entry.namespaced},
                          {"kind", entry.kind},
                          {"verbs", json::array{"get", "list", "watch"}}};
    if (writable && writable_resource(entry.resource))
      for (const char* verb : {"create", "delete", "patch", "update"})
        resource["verbs"].as_array().push_back(verb);
    if (*entry.short_name) resource["shortNames"] = json::array{entry.short_name};
    if (entry.in_all) resource["categories"] = json::array{"all"};
    resources.push_back(std::move(resource));
    // kubectl scale finds a resource's Scale kind here.
    if (entry.resource == ApiResource::Deployments) {
      json::array verbs{"get"};
      if (writable) verbs.insert(verbs.end(), {"patch", "update"});
      resources.push_back({{"name", "deployments/scale"},
                           {"singularName", ""},
                           {"namespaced", true},
                           {"group", "autoscaling"},
                           {"version", "v1"},
                           {"kind", "Scale"},
                           {"verbs", std::move(verbs)}});
    }
  }
  if (resources.empty()) return std::nullopt;
  return ApiAnswer{200, json::object{{"kind", "APIResourceList"},
                                     {"apiVersion", "v1"},
                                     {"groupVersion", group.empty() ? std::string("v1")
                                                                    : std::string(group) + "/v1"},
                                     {"resources", std::move(resources)}}};
}

const char* resource_plural(ApiResource resource) {
  return info(resource).plural;
}
const char* resource_kind(ApiResource resource) {
  return info(resource).kind;
}
std::string resource_api_version(ApiResource resource) {
  return api_version(info(resource));
}

json::object scale_json(const json::object& deployment) {
  const json::value* metadata = deployment.if_contains("metadata");
  json::object meta{{"name", string_at(deployment, "metadata", "name")},
                    {"namespace", string_at(deployment, "metadata", "namespace")}};
  if (metadata && metadata->is_object())
    for (const char* copied : {"resourceVersion", "uid", "creationTimestamp"})
      if (const json::value* value = metadata->as_object().if_contains(copied))
        meta[copied] = *value;
  std::int64_t replicas = 1;
  std::string selector;
  if (const json::value* spec = deployment.if_contains("spec"); spec && spec->is_object()) {
    if (const json::value* wanted = spec->as_object().if_contains("replicas");
        wanted && wanted->is_int64())
      replicas = wanted->as_int64();
    const json::value* match = spec->as_object().if_contains("selector");
    match = match && match->is_object() ? match->as_object().if_contains("matchLabels") : nullptr;
    if (match && match->is_object())
      for (const auto& [key, value] : match->as_object())
        if (value.is_string()) {
          if (!selector.empty()) selector += ',';
          selector.append(key.data(), key.size()).append(1, '=').append(value.as_string());
        }
  }
  std::int64_t current = 0;
  if (const json::value* status = deployment.if_contains("status"); status && status->is_object())
    if (const json::value* count = status->as_object().if_contains("replicas");
        count && count->is_int64())
      current = count->as_int64();
  return {{"kind", "Scale"},
          {"apiVersion", "autoscaling/v1"},
          {"metadata", std::move(meta)},
          {"spec", {{"replicas", replicas}}},
          {"status", {{"replicas", current}, {"selector", std::move(selector)}}}};
}

OpenApiV2 openapi_v2(std::string_view accept) {
  if (accept.find("protobuf") == std::string_view::npos)
    return {"application/json",
            json::serialize(json::object{{"swagger", "2.0"},
                                         {"info", {{"title", "svcproxy"}, {"version", "v1"}}},
                                         {"paths", json::object{}}}) +
                "\n"};
  // gnostic's openapi_v2.Document: swagger (1) and info (2) {title (1), version (2)}, each
  // a length-delimited field, and an empty paths (8). Every length is under 128: one byte.
  const auto field = [](int number, std::string_view value) {
    std::string out(1, static_cast<char>(number << 3 | 2));
    out += static_cast<char>(value.size());
    out.append(value);
    return out;
  };
  // kube-apiserver labels it so: Go cannot parse the "@" of the type kubectl asks for.
  // Appended, not `a + b + c`: GCC 12 at -O3 (make release) flags operator+ of temporaries
  // with a false -Warray-bounds.
  std::string info = field(1, "svcproxy");
  info.append(field(2, "v1"));
  std::string document = field(1, "2.0");
  document.append(field(2, info));
  document.append(field(8, ""));
  return {"application/octet-stream", std::move(document)};
}

}  // namespace svcproxy::server

#include "server/admin/admin_api.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <vector>

#include "server/admin/kube_json.hpp"

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

std::optional<ApiPath::Resource> resource_named(std::string_view name) {
  if (name == "services") return ApiPath::Resource::Services;
  if (name == "endpoints") return ApiPath::Resource::Endpoints;
  return std::nullopt;
}

json::object object_for(const ApiPath& path, const conf::Service& service,
                        const conf::Snapshot& snapshot, const discovery::BackendMap& backends,
                        lb::Clock::time_point now) {
  return path.resource == ApiPath::Resource::Services ? service_json(service, snapshot.proxy)
                                                      : endpoints_json(service, backends, now);
}

// A v1 Status, as the Kubernetes API answers a missing object.
json::object not_found(const ApiPath& path) {
  const char* kind = path.resource == ApiPath::Resource::Services ? "services" : "endpoints";
  return {{"kind", "Status"},
          {"apiVersion", "v1"},
          {"metadata", json::object{}},
          {"status", "Failure"},
          {"message", std::string(kind) + " \"" + path.name + "\" not found"},
          {"reason", "NotFound"},
          {"details", {{"name", path.name}, {"kind", kind}}},
          {"code", 404}};
}

}  // namespace

std::optional<ApiPath> parse_api_path(std::string_view path) {
  const auto parts = split_path(path);
  if (parts.size() < 3 || parts[0] != "api" || parts[1] != "v1") return std::nullopt;
  ApiPath result;
  std::size_t next = 2;
  if (parts[2] == "namespaces") {
    if (parts.size() < 5) return std::nullopt;
    result.namespace_name = std::string(parts[3]);
    next = 4;
  }
  const auto resource = resource_named(parts[next]);
  if (!resource || parts.size() > next + 2) return std::nullopt;
  if (parts.size() == next + 2) {
    if (result.namespace_name.empty()) return std::nullopt;  // a name needs a namespace
    result.name = std::string(parts[next + 1]);
  }
  result.resource = *resource;
  return result;
}

ApiAnswer answer_api(const ApiPath& path, const conf::Snapshot& snapshot,
                     const discovery::BackendMap& backends, lb::Clock::time_point now) {
  json::array items;
  for (const auto& service : snapshot.services) {
    if (!path.namespace_name.empty() && service.namespace_name != path.namespace_name) continue;
    if (!path.name.empty() && service.name != path.name) continue;
    json::object item = object_for(path, service, snapshot, backends, now);
    if (!path.name.empty()) return {200, std::move(item)};
    items.push_back(std::move(item));
  }
  if (!path.name.empty()) return {404, not_found(path)};
  const bool services = path.resource == ApiPath::Resource::Services;
  return {200, json::object{{"kind", services ? "ServiceList" : "EndpointsList"},
                            {"apiVersion", "v1"},
                            {"metadata", json::object{}},
                            {"items", std::move(items)}}};
}

}  // namespace svcproxy::server

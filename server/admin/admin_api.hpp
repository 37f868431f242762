// The Kubernetes API the admin listener serves, read-only, for the kinds svcproxy owns:
// discovery (/version, /api, /apis, each group's resource list) so kubectl can find them,
// and get/list of Services, Endpoints, EndpointSlices, Pods, Deployments, Nodes and
// Namespaces (plus an always-empty Events list, for kubectl describe), with label and
// field selectors and, when the client asks for it, kubectl's table (meta.k8s.io/v1
// Table with the columns kubectl's own server prints). Pure, so tests need no sockets;
// control thread in the server.
#pragma once

#include <boost/json/value.hpp>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "conf/model.hpp"
#include "discovery/backends.hpp"

namespace svcproxy::server {

enum class ApiResource {
  Services,
  Endpoints,
  Pods,
  Nodes,
  Namespaces,
  Events,
  Deployments,
  EndpointSlices
};

struct ApiPath {
  ApiResource resource = ApiResource::Services;
  std::string namespace_name;  // empty: every namespace (or a cluster-scoped resource)
  std::string name;            // empty: a List
  std::string subresource;     // "scale" (deployments/NAME/scale); empty: the object
};

// /api/v1/RESOURCE, /api/v1/namespaces/NS/RESOURCE[/NAME], /apis/GROUP/VERSION/... and
// cluster-scoped /api/v1/{nodes,namespaces}[/NAME], and a Deployment's /scale; nullopt for
// any other path. `path` excludes the query string.
std::optional<ApiPath> parse_api_path(std::string_view path);

// What the request asks besides the path: the query's selectors and whether the Accept
// header asks for a Table (as kubectl get does).
struct ApiQuery {
  std::string label_selector;
  std::string field_selector;
  bool table = false;
  bool watch = false;            // watch=true|1: a stream of events, not a list
  std::string resource_version;  // where a watch starts (a list's metadata.resourceVersion)
  int timeout_seconds = 0;       // how long a watch runs; 0: the server's choice
};
ApiQuery parse_api_query(std::string_view query, std::string_view accept);

struct ApiAnswer {
  int status = 200;
  boost::json::value body;
  // Sent as `Warning: 299 - "..."` headers; kubectl prints each as "Warning: ...".
  std::vector<std::string> warnings = {};
};

// An object's metadata.resourceVersion: in cluster mode the etcd mod_revision of the stored
// Service, Pod or Deployment (what a PUT must send back), "" when unknown (file mode).
using ResourceVersions = std::function<std::string(
    ApiResource resource, std::string_view namespace_name, std::string_view name)>;

ApiAnswer answer_api(const ApiPath& path, const ApiQuery& query, const conf::Snapshot& snapshot,
                     const discovery::BackendMap& backends, lb::Clock::time_point now,
                     const ResourceVersions& versions = {});

// The objects a list (or a watch) of `path` holds now, selectors applied; nullopt with
// `refused` set (a 400 Status) for a selector the API does not take.
std::optional<std::vector<boost::json::object>> list_items(
    const ApiPath& path, const ApiQuery& query, const conf::Snapshot& snapshot,
    const discovery::BackendMap& backends, lb::Clock::time_point now, ApiAnswer& refused,
    const ResourceVersions& versions = {});

// One watch event as Kubernetes writes it: {"type": TYPE, "object": the object, or a
// one-row Table when the watch asked for tables}.
boost::json::object watch_event(const char* type, const boost::json::object& object,
                                ApiResource resource, const ApiQuery& query);
// The ERROR event that ends a watch from a version this server cannot start at.
boost::json::object watch_gone(const std::string& resource_version);

// /version, /api, /apis, /api/v1, /apis/GROUP/VERSION and /openapi/v3[/GROUP-VERSION];
// nullopt for any other path.
// `server_address` is where clients reach this API (APIVersions says so); `writable` adds
// the write verbs to the stored kinds (cluster mode).
std::optional<ApiAnswer> answer_discovery(std::string_view path, std::string_view server_address,
                                          bool writable = false);

// /openapi/v2 with no paths and no definitions: kubectl before 1.27 downloads it to validate
// (and finds no schema, so leaves validation to the server) instead of failing the write.
// As protobuf when `accept` asks for it (kubectl does), else JSON.
struct OpenApiV2 {
  std::string content_type;
  std::string body;
};
OpenApiV2 openapi_v2(std::string_view accept);

// A v1 Status of failure, as the Kubernetes API writes one.
boost::json::object api_status(int code, const char* reason, std::string message,
                               boost::json::object details = {});
// The resource's plural ("services") and its kind ("Service").
const char* resource_plural(ApiResource resource);
const char* resource_kind(ApiResource resource);
// "v1", "apps/v1", "discovery.k8s.io/v1".
std::string resource_api_version(ApiResource resource);
// autoscaling/v1 Scale of a Deployment object (as the API shows it).
boost::json::object scale_json(const boost::json::object& deployment);

}  // namespace svcproxy::server

// Writes through the Kubernetes API, in cluster mode: what kubectl create, replace, edit,
// apply (client-side and --server-side), patch, delete and scale send, for Services, Pods
// and Deployments. Each goes through the same validation as `svcproxy apply` (conf's
// loader, with the node's own files beside the object, so a clash with them is caught
// too) and the same store (cluster::apply_object: allocation claimed in the write's
// compare-and-swap), so the API can do nothing the command line could not. What the store
// answers is mapped to the Status kubectl expects: 201 created, 409 AlreadyExists or
// Conflict (a PUT or a delete precondition with a stale resourceVersion), 404, and 422
// Invalid with details.causes[].field, which kubectl prints as the field path.
//
// Server-side apply treats its caller as the only field manager: the applied object
// replaces the stored one (server-set metadata, allocations and a Pod's node-written
// conditions kept). Control thread; the store's calls are the only suspension points.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/verb.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/etcd_client.hpp"
#include "cluster/object_store.hpp"
#include "server/admin/admin_api.hpp"

namespace svcproxy::server {

struct ApiWriteRequest {
  boost::beast::http::verb method = boost::beast::http::verb::post;
  ApiPath path;
  std::string query;  // the query string (dryRun, fieldManager)
  std::string content_type;
  std::string body;
};

// What writes go through; owned by the node, which outlives every request.
struct ApiWriteContext {
  cluster::KvStore& store;
  cluster::StoreSettings settings;
  std::vector<std::string> config_paths;  // the node's files, validated with each object
};

// The answer to a POST, PUT, PATCH or DELETE on `request.path`.
boost::asio::awaitable<ApiAnswer> answer_write(ApiWriteRequest request,
                                               const ApiWriteContext& context);

}  // namespace svcproxy::server

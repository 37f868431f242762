// What the admin listener answers, request by request: /metrics, /healthz, /livez,
// /readyz and the Kubernetes-shaped API. Pure apart from reading the live state handed in,
// so it is tested without sockets. Control thread only.
#pragma once

#include <prometheus/collectable.h>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <functional>
#include <optional>

#include "conf/model.hpp"
#include "discovery/backends.hpp"
#include "server/admin/admin_api.hpp"
#include "server/admin/api_writes.hpp"

namespace svcproxy::server {

// Starting: before every listener is bound; Draining: after SIGTERM. /readyz is 200 only
// when Ready.
enum class Readiness { Starting, Ready, Draining };

// Live control-thread state the admin answers from; owned by Proxy, which outlives it.
struct AdminSources {
  const conf::Snapshot& snapshot;
  const discovery::BackendMapPtr& backends;  // the owner replaces the map it points to
  const prometheus::Collectable& metrics;
  // Extra lines for /healthz (cluster mode: whether etcd is reachable); may be empty.
  std::function<std::string()> health_detail = {};
  // Cluster mode: objects' resourceVersions, and where API writes go (null: file mode,
  // where writes answer 405).
  ResourceVersions resource_versions = {};
  std::function<boost::asio::awaitable<ApiAnswer>(ApiWriteRequest)> write = {};
  // The bearer token writes must carry (ProxyConfig apiTokenFile): nullopt when none is
  // configured; "" when the file could not be read (then no write is let in).
  std::function<std::optional<std::string>()> api_token = {};
  // When the running configuration was applied (kube-proxy's health lastUpdated).
  std::function<std::chrono::system_clock::time_point()> last_update = {};
};

using AdminRequest = boost::beast::http::request<boost::beast::http::string_body>;
using AdminResponse = boost::beast::http::response<boost::beast::http::string_body>;

// Unknown path: 404. Known path, method other than GET/HEAD: 405 with Allow. The response
// is complete (payload prepared, keep-alive as the request asked).
AdminResponse route_admin_request(const AdminRequest& request, const AdminSources& sources,
                                  Readiness readiness);

// HEAD: the headers GET would send, Content-Length included, and no body.
void strip_body_for_head(AdminResponse& response);

// An API answer as a response: JSON, with its warnings as Warning headers.
AdminResponse api_response(ApiAnswer answer, bool keep_alive);

}  // namespace svcproxy::server

#include "server/admin/service_health.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <unordered_set>

#include "server/admin/endpoint_status.hpp"

namespace svcproxy::server {
namespace http = boost::beast::http;

int local_ready_endpoints(const ServiceHealthTarget& target, const discovery::BackendMap& backends,
                          lb::Clock::time_point now) {
  std::unordered_set<std::string> pods;
  for (const auto& key : target.backend_keys) {
    const auto found = backends.find(key);
    if (found == backends.end()) continue;
    for (const auto& endpoint : found->second->endpoints())
      if (endpoint_status(*endpoint, now).ready) pods.insert(endpoint->address().pod_key());
  }
  return static_cast<int>(pods.size());
}

AdminResponse service_health_response(const AdminRequest& request,
                                      const ServiceHealthTarget& target, int local_endpoints,
                                      bool proxy_healthy) {
  const bool ok = local_endpoints != 0 && proxy_healthy;
  AdminResponse response{ok ? http::status::ok : http::status::service_unavailable,
                         request.version()};
  response.keep_alive(request.keep_alive());
  response.set(http::field::content_type, "application/json");
  response.set("X-Content-Type-Options", "nosniff");
  response.set("X-Load-Balancing-Endpoint-Weight", std::to_string(local_endpoints));
  // kube-proxy's body byte for byte: its dedented template is indented with tabs.
  std::string& body = response.body();
  body = "{\n\t\"service\": {\n\t\t\"namespace\": ";
  body += boost::json::serialize(boost::json::string(target.namespace_name));
  body += ",\n\t\t\"name\": ";
  body += boost::json::serialize(boost::json::string(target.name));
  body += "\n\t},\n\t\"localEndpoints\": ";
  body += std::to_string(local_endpoints);
  body += ",\n\t\"serviceProxyHealthy\": ";
  body += proxy_healthy ? "true" : "false";
  body += "\n}";
  response.prepare_payload();
  if (request.method() == http::verb::head) strip_body_for_head(response);
  return response;
}

}  // namespace svcproxy::server

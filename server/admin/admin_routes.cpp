#include "server/admin/admin_routes.hpp"

#include <boost/json/serialize.hpp>

#include "server/admin/admin_api.hpp"
#include "server/metrics/metrics_collector.hpp"

namespace svcproxy::server {
namespace http = boost::beast::http;

namespace {

constexpr const char* kTextType = "text/plain; charset=utf-8";
constexpr const char* kMetricsType = "text/plain; version=0.0.4; charset=utf-8";
constexpr const char* kJsonType = "application/json";

AdminResponse make_response(http::status status, const char* type, std::string body) {
  AdminResponse response{status, 11};
  response.set(http::field::server, "svcproxy");
  response.set(http::field::content_type, type);
  response.set(http::field::cache_control, "no-store");
  response.body() = std::move(body);
  return response;
}

const char* readiness_text(Readiness readiness) {
  switch (readiness) {
    case Readiness::Ready:
      return "ok\n";
    case Readiness::Starting:
      return "not ready: starting\n";
    case Readiness::Draining:
      return "not ready: draining\n";
  }
  return "?\n";
}

// The answer for a known path, or nullopt when the path is unknown.
std::optional<AdminResponse> answer_path(std::string_view path, const AdminSources& sources,
                                         Readiness readiness) {
  if (path == "/metrics")
    return make_response(http::status::ok, kMetricsType, serialize_metrics(sources.metrics));
  // Liveness: etcd being away is reported, never a failure (traffic does not depend on it).
  if (path == "/healthz" || path == "/livez") {
    const std::string detail = sources.health_detail ? sources.health_detail() : std::string();
    return make_response(http::status::ok, kTextType,
                         detail.empty() ? std::string("ok\n") : "ok\n" + detail + "\n");
  }
  if (path == "/readyz")
    return make_response(
        readiness == Readiness::Ready ? http::status::ok : http::status::service_unavailable,
        kTextType, readiness_text(readiness));
  const auto api = parse_api_path(path);
  if (!api) return std::nullopt;
  ApiAnswer answer = answer_api(*api, sources.snapshot, *sources.backends, lb::Clock::now());
  return make_response(static_cast<http::status>(answer.status), kJsonType,
                       boost::json::serialize(answer.body) + "\n");
}

bool is_known_path(std::string_view path) {
  return path == "/metrics" || path == "/healthz" || path == "/livez" || path == "/readyz" ||
         parse_api_path(path).has_value();
}

AdminResponse not_found() {
  return make_response(http::status::not_found, kTextType, "not found\n");
}

AdminResponse refuse_method(std::string_view path) {
  if (!is_known_path(path)) return not_found();
  AdminResponse response =
      make_response(http::status::method_not_allowed, kTextType, "method not allowed\n");
  response.set(http::field::allow, "GET, HEAD");
  return response;
}

// HEAD: the headers GET would send, Content-Length included, and no body.
void strip_body_for_head(AdminResponse& response) {
  const auto length = response.body().size();
  response.body().clear();
  response.content_length(length);
}

}  // namespace

AdminResponse route_admin_request(const AdminRequest& request, const AdminSources& sources,
                                  Readiness readiness) {
  const std::string_view target = request.target();
  const std::string_view path = target.substr(0, target.find('?'));
  const bool head = request.method() == http::verb::head;
  AdminResponse response = head || request.method() == http::verb::get
                               ? answer_path(path, sources, readiness).value_or(not_found())
                               : refuse_method(path);
  response.keep_alive(request.keep_alive());
  response.prepare_payload();
  if (head) strip_body_for_head(response);
  return response;
}

}  // namespace svcproxy::server

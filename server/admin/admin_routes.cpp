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

AdminResponse json_response(ApiAnswer answer) {
  AdminResponse response = make_response(static_cast<http::status>(answer.status), kJsonType,
                                         boost::json::serialize(answer.body) + "\n");
  for (const auto& warning : answer.warnings) {
    // RFC 7234 warn-text is a quoted string.
    std::string text = "299 - \"";
    for (char c : warning)
      if (c != '"' && c != '\\' && c != '\r' && c != '\n') text += c;
    response.insert(http::field::warning, text + "\"");
  }
  return response;
}

// The answer for a known path, or nullopt when the path is unknown.
std::optional<AdminResponse> answer_path(std::string_view path, std::string_view query,
                                         std::string_view accept, const AdminSources& sources,
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
  if (path == "/openapi/v2") {
    OpenApiV2 document = openapi_v2(accept);
    return make_response(http::status::ok, document.content_type.c_str(), std::move(document.body));
  }
  if (auto discovery = answer_discovery(path, sources.snapshot.proxy.admin_address,
                                        static_cast<bool>(sources.write)))
    return json_response(std::move(*discovery));
  const auto api = parse_api_path(path);
  if (!api) return std::nullopt;
  return json_response(answer_api(*api, parse_api_query(query, accept), sources.snapshot,
                                  *sources.backends, lb::Clock::now(), sources.resource_versions));
}

bool is_known_path(std::string_view path) {
  return path == "/metrics" || path == "/healthz" || path == "/livez" || path == "/readyz" ||
         path == "/openapi/v2" || answer_discovery(path, "").has_value() ||
         parse_api_path(path).has_value();
}

AdminResponse not_found() {
  return make_response(http::status::not_found, kTextType, "not found\n");
}

AdminResponse refuse_method(std::string_view path) {
  if (!is_known_path(path)) return not_found();
  if (parse_api_path(path)) {
    // As the Kubernetes API answers a verb a resource does not support; kubectl prints
    // the message.
    AdminResponse response = json_response(
        {405, boost::json::object{
                  {"kind", "Status"},
                  {"apiVersion", "v1"},
                  {"metadata", boost::json::object{}},
                  {"status", "Failure"},
                  {"message",
                   "svcproxy's API is read-only here: the configuration files are the source "
                   "of truth (edit them; svcproxy reloads), or store objects in etcd with "
                   "`svcproxy apply` (cluster mode)"},
                  {"reason", "MethodNotAllowed"},
                  {"code", 405}}});
    response.set(http::field::allow, "GET, HEAD");
    return response;
  }
  AdminResponse response =
      make_response(http::status::method_not_allowed, kTextType, "method not allowed\n");
  response.set(http::field::allow, "GET, HEAD");
  return response;
}

}  // namespace

void strip_body_for_head(AdminResponse& response) {
  const auto length = response.body().size();
  response.body().clear();
  response.content_length(length);
}

AdminResponse api_response(ApiAnswer answer, bool keep_alive) {
  AdminResponse response = json_response(std::move(answer));
  response.keep_alive(keep_alive);
  response.prepare_payload();
  return response;
}

AdminResponse route_admin_request(const AdminRequest& request, const AdminSources& sources,
                                  Readiness readiness) {
  const std::string_view target = request.target();
  const auto question = target.find('?');
  const std::string_view path = target.substr(0, question);
  const std::string_view query =
      question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
  const bool head = request.method() == http::verb::head;
  AdminResponse response =
      head || request.method() == http::verb::get
          ? answer_path(path, query, request[http::field::accept], sources, readiness)
                .value_or(not_found())
          : refuse_method(path);
  response.keep_alive(request.keep_alive());
  response.prepare_payload();
  if (head) strip_body_for_head(response);
  return response;
}

}  // namespace svcproxy::server

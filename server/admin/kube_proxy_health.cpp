#include "server/admin/kube_proxy_health.hpp"

#include <boost/json.hpp>
#include <ctime>

namespace svcproxy::server {
namespace http = boost::beast::http;
namespace json = boost::json;

namespace {

// Go's time.RFC3339Nano as kube-proxy's JSON writes it: trailing zeros of the fraction
// dropped, "Z" for UTC.
std::string rfc3339_nano(std::chrono::system_clock::time_point when) {
  const auto since_epoch = when.time_since_epoch();
  const auto seconds = std::chrono::floor<std::chrono::seconds>(since_epoch);
  const auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch - seconds);
  const std::time_t whole = seconds.count();
  std::tm utc{};
  gmtime_r(&whole, &utc);
  char text[64];
  std::size_t length = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  std::string out(text, length);
  if (nanos.count() != 0) {
    std::string fraction = std::to_string(1'000'000'000 + nanos.count()).substr(1);
    fraction.erase(fraction.find_last_not_of('0') + 1);
    out += "." + fraction;
  }
  return out + "Z";
}

}  // namespace

AdminResponse kube_proxy_health_response(const AdminRequest& request, Readiness readiness,
                                         std::chrono::system_clock::time_point last_updated,
                                         std::chrono::system_clock::time_point now) {
  const std::string_view path = request.target().substr(0, request.target().find('?'));
  const bool livez = path == "/livez";
  AdminResponse response{http::status::not_found, request.version()};
  response.keep_alive(request.keep_alive());
  if (!livez && path != "/healthz") {
    response.set(http::field::content_type, "text/plain");
    response.body() = "404 page not found\n";
    response.prepare_payload();
    return response;
  }
  // Healthy once the configuration is applied and the listeners bound; eligible for
  // traffic until a drain starts (as a Node that is being deleted is not).
  const bool healthy = readiness != Readiness::Starting;
  const bool eligible = readiness != Readiness::Draining;
  const bool ok = healthy && (livez || eligible);
  // As kube-proxy: a healthy answer reports itself as the last update.
  const std::string updated = rfc3339_nano(healthy ? now : last_updated);
  json::object body{{"lastUpdated", updated}, {"currentTime", rfc3339_nano(now)}};
  if (!livez) body["nodeEligible"] = eligible;
  body["healthy"] = healthy;
  body["status"] = {{"IPv4", {{"lastUpdated", updated}, {"healthy", healthy}}}};
  response.result(ok ? http::status::ok : http::status::service_unavailable);
  response.set(http::field::content_type, "application/json");
  response.set("X-Content-Type-Options", "nosniff");
  response.body() = json::serialize(body);
  response.prepare_payload();
  if (request.method() == http::verb::head) strip_body_for_head(response);
  return response;
}

}  // namespace svcproxy::server

#include "server/admin/kube_proxy_health.hpp"

#include <doctest/doctest.h>

#include <boost/json.hpp>

using namespace svcproxy::server;
namespace http = boost::beast::http;
namespace json = boost::json;

namespace {

AdminResponse get(std::string target, Readiness readiness) {
  AdminRequest request{http::verb::get, target, 11};
  const auto updated = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
  const auto now = updated + std::chrono::milliseconds(1500);
  return kube_proxy_health_response(request, readiness, updated, now);
}

}  // namespace

// pkg/proxy/healthcheck/proxy_health.go: 200 iff healthy and the node eligible; the body
// is kube-proxy's JSON, its times RFC 3339 with nanoseconds.
TEST_CASE("kube-proxy /healthz: 200 with its JSON while serving, 503 while starting or draining") {
  const AdminResponse ready = get("/healthz", Readiness::Ready);
  CHECK(ready.result() == http::status::ok);
  CHECK(ready[http::field::content_type] == "application/json");
  CHECK(ready["X-Content-Type-Options"] == "nosniff");
  CHECK(ready.body() ==
        R"({"lastUpdated":"2023-11-14T22:13:21.5Z","currentTime":"2023-11-14T22:13:21.5Z",)"
        R"("nodeEligible":true,"healthy":true,"status":{"IPv4":{"lastUpdated":)"
        R"("2023-11-14T22:13:21.5Z","healthy":true}}})");
  const AdminResponse draining = get("/healthz", Readiness::Draining);
  CHECK(draining.result() == http::status::service_unavailable);
  CHECK(json::parse(draining.body()).at("nodeEligible") == false);
  const AdminResponse starting = get("/healthz", Readiness::Starting);
  CHECK(starting.result() == http::status::service_unavailable);
  CHECK(json::parse(starting.body()).at("lastUpdated") == "2023-11-14T22:13:20Z");
}

TEST_CASE("kube-proxy /livez ignores draining and has no nodeEligible; other paths are 404") {
  const AdminResponse livez = get("/livez", Readiness::Draining);
  CHECK(livez.result() == http::status::ok);
  CHECK_FALSE(json::parse(livez.body()).as_object().contains("nodeEligible"));
  CHECK(get("/metrics", Readiness::Ready).result() == http::status::not_found);
}

// What the admin listener answers, without sockets.
#include "server/admin/admin_routes.hpp"

#include <doctest/doctest.h>

#include "server/metrics/metrics_collector.hpp"

using namespace svcproxy;
using namespace svcproxy::server;
namespace http = boost::beast::http;

namespace {

struct Fixture {
  conf::Snapshot snapshot;
  discovery::BackendMapPtr backends = std::make_shared<const discovery::BackendMap>();
  ServiceMetricsMapPtr services = std::make_shared<const ServiceMetricsMap>();
  ControlStats control;
  MetricsCollector metrics{services, backends, control};
  AdminSources sources{snapshot, backends, metrics};

  AdminResponse get(http::verb method, const std::string& target,
                    Readiness readiness = Readiness::Ready) {
    AdminRequest request{method, target, 11};
    return route_admin_request(request, sources, readiness);
  }
};

}  // namespace

TEST_CASE("admin routes") {
  Fixture f;
  CHECK(f.get(http::verb::get, "/healthz").result() == http::status::ok);
  CHECK(f.get(http::verb::get, "/livez").body() == "ok\n");
  CHECK(f.get(http::verb::get, "/metrics?x=1").result() == http::status::ok);
  CHECK(f.get(http::verb::get, "/api/v1/endpoints")[http::field::content_type] ==
        "application/json");
  CHECK(f.get(http::verb::get, "/nope").result() == http::status::not_found);
  const auto post = f.get(http::verb::post, "/metrics");
  CHECK(post.result() == http::status::method_not_allowed);
  CHECK(post[http::field::allow] == "GET, HEAD");
  CHECK(f.get(http::verb::post, "/nope").result() == http::status::not_found);
}

TEST_CASE("readyz follows the proxy's readiness") {
  Fixture f;
  CHECK(f.get(http::verb::get, "/readyz", Readiness::Starting).result() ==
        http::status::service_unavailable);
  CHECK(f.get(http::verb::get, "/readyz", Readiness::Ready).result() == http::status::ok);
  CHECK(f.get(http::verb::get, "/readyz", Readiness::Draining).result() ==
        http::status::service_unavailable);
}

TEST_CASE("HEAD sends GET's length without a body") {
  Fixture f;
  const auto head = f.get(http::verb::head, "/healthz");
  CHECK(head.body().empty());
  CHECK(head[http::field::content_length] == "3");
}

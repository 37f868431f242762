// The Kubernetes-shaped JSON of the admin API, from a hand-built snapshot and backends.
#include "server/admin/admin_api.hpp"

#include <doctest/doctest.h>

#include <boost/json.hpp>

#include "server/admin/endpoint_status.hpp"

using namespace svcproxy;
using namespace svcproxy::server;
namespace json = boost::json;

namespace {

conf::Snapshot snapshot_with_web() {
  conf::Snapshot snapshot;
  conf::Service web;
  web.name = "web";
  web.namespace_name = "shop";
  web.type = conf::ServiceType::NodePort;
  web.cluster_ip = "127.96.0.10";
  web.selector = {{"app", "web"}};
  conf::ServicePort port;
  port.name = "http";
  port.port = 80;
  port.target_port.name = "http";
  port.node_port = 30080;
  port.app_protocol = conf::AppProtocol::Http;
  web.ports.push_back(port);
  snapshot.services.push_back(web);
  return snapshot;
}

lb::EndpointPtr endpoint(const std::string& pod, const std::string& ip, bool probed) {
  lb::EndpointAddress address{"shop", pod, ip, 8080, "", std::nullopt};
  if (probed) address.readiness_probe = conf::Probe{};  // not ready until a probe passes
  return std::make_shared<lb::Endpoint>(address);
}

discovery::BackendMap backends_for(const conf::Snapshot& snapshot,
                                   std::vector<lb::EndpointPtr> endpoints) {
  lb::BackendSettings settings;
  settings.name = "shop/web:80";
  const auto key = discovery::service_port_key(snapshot.services[0], snapshot.services[0].ports[0]);
  return {{key, std::make_shared<const lb::Backend>(settings, std::move(endpoints))}};
}

}  // namespace

TEST_CASE("api paths") {
  CHECK(parse_api_path("/api/v1/services")->name.empty());
  const auto one = parse_api_path("/api/v1/namespaces/shop/endpoints/web");
  REQUIRE(one);
  CHECK(one->resource == ApiPath::Resource::Endpoints);
  CHECK(one->namespace_name == "shop");
  CHECK(one->name == "web");
  CHECK_FALSE(parse_api_path("/api/v1/pods"));
  CHECK_FALSE(parse_api_path("/api/v1/namespaces/shop"));
  CHECK_FALSE(parse_api_path("/api/v1/services/web"));
  CHECK_FALSE(parse_api_path("/api/v1/namespaces/shop/services/web/extra"));
}

TEST_CASE("ServiceList carries allocated addresses and ports") {
  const auto snapshot = snapshot_with_web();
  const auto answer =
      answer_api(*parse_api_path("/api/v1/services"), snapshot, {}, lb::Clock::now());
  CHECK(answer.status == 200);
  const auto& list = answer.body.as_object();
  CHECK(list.at("kind") == "ServiceList");
  CHECK(list.at("apiVersion") == "v1");
  const auto& item = list.at("items").as_array().at(0).as_object();
  CHECK(item.at("metadata").at("name") == "web");
  CHECK(item.at("metadata").at("namespace") == "shop");
  const auto& spec = item.at("spec").as_object();
  CHECK(spec.at("type") == "NodePort");
  CHECK(spec.at("clusterIP") == "127.96.0.10");
  CHECK(spec.at("clusterIPs").as_array().at(0) == "127.96.0.10");
  const auto& port = spec.at("ports").as_array().at(0).as_object();
  CHECK(port.at("nodePort") == 30080);
  CHECK(port.at("targetPort") == "http");
  CHECK(port.at("protocol") == "TCP");
  CHECK(port.at("appProtocol") == "http");
  CHECK(item.at("status").at("loadBalancer").is_object());
}

TEST_CASE("EndpointsList splits ready and not-ready addresses and says why") {
  const auto snapshot = snapshot_with_web();
  auto ready = endpoint("web-1", "127.0.1.1", false);
  auto failing = endpoint("web-2", "127.0.1.2", true);
  auto ejected = endpoint("web-3", "127.0.1.3", false);
  const auto now = lb::Clock::now();
  ejected->eject_until(now + std::chrono::seconds(30));
  const auto backends = backends_for(snapshot, {ready, failing, ejected});
  const auto answer = answer_api(*parse_api_path("/api/v1/endpoints"), snapshot, backends, now);
  const auto& item = answer.body.at("items").as_array().at(0);
  CHECK(answer.body.at("kind") == "EndpointsList");
  CHECK(item.at("metadata").at("name") == "web");
  const auto& subset = item.at("subsets").as_array().at(0);
  CHECK(subset.at("addresses").as_array().size() == 1);
  CHECK(subset.at("addresses").at(0).at("targetRef").at("name") == "web-1");
  CHECK(subset.at("addresses").at(0).at("targetRef").at("kind") == "Pod");
  const auto& not_ready = subset.at("notReadyAddresses").as_array();
  REQUIRE(not_ready.size() == 2);
  CHECK(not_ready.at(0).at("svcproxy").at("reason") == "ReadinessProbeFailing");
  CHECK(not_ready.at(0).at("conditions").at("serving") == false);
  CHECK(not_ready.at(1).at("svcproxy").at("reason") == "Ejected");
  CHECK(not_ready.at(1).at("conditions").at("serving") == true);
  CHECK(subset.at("ports").at(0).at("port") == 8080);
}

TEST_CASE("a named object that does not exist is a v1 Status 404") {
  const auto snapshot = snapshot_with_web();
  const auto answer = answer_api(*parse_api_path("/api/v1/namespaces/shop/services/nope"), snapshot,
                                 {}, lb::Clock::now());
  CHECK(answer.status == 404);
  CHECK(answer.body.at("kind") == "Status");
  CHECK(answer.body.at("reason") == "NotFound");
  const auto found = answer_api(*parse_api_path("/api/v1/namespaces/shop/services/web"), snapshot,
                                {}, lb::Clock::now());
  CHECK(found.status == 200);
  CHECK(found.body.at("kind") == "Service");
}

TEST_CASE("endpoint status order: terminating, probe, ejection") {
  auto e = endpoint("p", "127.0.1.9", true);
  const auto now = lb::Clock::now();
  e->eject_until(now + std::chrono::seconds(5));
  CHECK(endpoint_status(*e, now).state == EndpointState::NotReady);
  e->set_ready(true);
  CHECK(endpoint_status(*e, now).state == EndpointState::Ejected);
  e->set_terminating();
  CHECK(endpoint_status(*e, now).reason == "Removed");
  e->clear_ejection();
  CHECK_FALSE(endpoint_status(*e, now).ready);
}

// The Kubernetes-shaped JSON of the admin API, from a hand-built snapshot and backends.
#include "server/admin/admin_api.hpp"

#include <doctest/doctest.h>

#include <boost/json.hpp>

#include "server/admin/endpoint_status.hpp"
#include "server/admin/kube_table.hpp"

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
  port.app_protocol_name = "http";
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

ApiAnswer answer_api_for(const std::optional<ApiPath>& path, const conf::Snapshot& snapshot,
                         const discovery::BackendMap& backends, lb::Clock::time_point now,
                         const ApiQuery& query = {}) {
  REQUIRE(path);
  return answer_api(*path, query, snapshot, backends, now);
}

// The cells of a Table answer, row by row, as strings (numbers printed).
std::vector<std::vector<std::string>> table_cells(const ApiAnswer& answer) {
  std::vector<std::vector<std::string>> rows;
  REQUIRE(answer.body.at("kind") == "Table");
  for (const auto& row : answer.body.at("rows").as_array()) {
    std::vector<std::string> cells;
    for (const auto& cell : row.at("cells").as_array())
      cells.push_back(cell.is_string() ? std::string(cell.as_string()) : json::serialize(cell));
    rows.push_back(cells);
  }
  return rows;
}

std::vector<std::string> column_names(const ApiAnswer& answer) {
  std::vector<std::string> names;
  for (const auto& column : answer.body.at("columnDefinitions").as_array())
    names.emplace_back(column.at("name").as_string());
  return names;
}

}  // namespace

TEST_CASE("api paths") {
  CHECK(parse_api_path("/api/v1/services")->name.empty());
  const auto one = parse_api_path("/api/v1/namespaces/shop/endpoints/web");
  REQUIRE(one);
  CHECK(one->resource == ApiResource::Endpoints);
  CHECK(one->namespace_name == "shop");
  CHECK(one->name == "web");
  CHECK(parse_api_path("/api/v1/pods")->resource == ApiResource::Pods);
  CHECK(parse_api_path("/api/v1/nodes/node-1")->name == "node-1");  // cluster-scoped
  CHECK(parse_api_path("/apis/apps/v1/namespaces/shop/deployments/web")->resource ==
        ApiResource::Deployments);
  CHECK(parse_api_path("/apis/discovery.k8s.io/v1/endpointslices")->resource ==
        ApiResource::EndpointSlices);
  CHECK_FALSE(parse_api_path("/api/v1/deployments"));  // apps, not core
  CHECK_FALSE(parse_api_path("/api/v1/namespaces/shop/nodes"));
  CHECK_FALSE(parse_api_path("/api/v1/secrets"));
  CHECK(parse_api_path("/api/v1/namespaces/shop")->resource == ApiResource::Namespaces);
  CHECK_FALSE(parse_api_path("/api/v1/services/web"));
  CHECK_FALSE(parse_api_path("/api/v1/namespaces/shop/services/web/extra"));
}

TEST_CASE("ServiceList carries allocated addresses and ports") {
  const auto snapshot = snapshot_with_web();
  const auto answer =
      answer_api_for(parse_api_path("/api/v1/services"), snapshot, {}, lb::Clock::now());
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

// As kube-apiserver stores them after initIPFamilyFields: both clusterIPs of a dual-stack
// Service; a headless selectorless one RequireDualStack with both families.
TEST_CASE("Services show clusterIPs, ipFamilies and ipFamilyPolicy for the serviceCIDR") {
  auto snapshot = snapshot_with_web();
  snapshot.proxy.service_cidr = "127.96.0.0/12,fd00:10:96::/112";
  conf::Service& web = snapshot.services.mutate(0);
  web.secondary_cluster_ip = "fd00:10:96::a";
  web.ip_family_policy = conf::IpFamilyPolicy::PreferDualStack;
  conf::Service bare;
  bare.name = "bare";
  bare.namespace_name = "shop";
  bare.headless = true;
  snapshot.services.push_back(bare);
  const auto answer =
      answer_api_for(parse_api_path("/api/v1/services"), snapshot, {}, lb::Clock::now());
  const auto& items = answer.body.at("items").as_array();
  const auto& spec = items.at(0).at("spec").as_object();
  CHECK(spec.at("clusterIPs") == json::array{"127.96.0.10", "fd00:10:96::a"});
  CHECK(spec.at("ipFamilies") == json::array{"IPv4", "IPv6"});
  CHECK(spec.at("ipFamilyPolicy") == "PreferDualStack");
  const auto& headless = items.at(1).at("spec").as_object();
  CHECK(headless.at("clusterIP") == "None");
  CHECK(headless.at("clusterIPs") == json::array{"None"});
  CHECK(headless.at("ipFamilies") == json::array{"IPv4", "IPv6"});
  CHECK(headless.at("ipFamilyPolicy") == "RequireDualStack");
}

TEST_CASE("EndpointsList splits ready and not-ready addresses and says why") {
  const auto snapshot = snapshot_with_web();
  auto ready = endpoint("web-1", "127.0.1.1", false);
  auto failing = endpoint("web-2", "127.0.1.2", true);
  auto ejected = endpoint("web-3", "127.0.1.3", false);
  const auto now = lb::Clock::now();
  ejected->eject_until(now + std::chrono::seconds(30));
  const auto backends = backends_for(snapshot, {ready, failing, ejected});
  const auto answer = answer_api_for(parse_api_path("/api/v1/endpoints"), snapshot, backends, now);
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
  const auto answer = answer_api_for(parse_api_path("/api/v1/namespaces/shop/services/nope"),
                                     snapshot, {}, lb::Clock::now());
  CHECK(answer.status == 404);
  CHECK(answer.body.at("kind") == "Status");
  CHECK(answer.body.at("reason") == "NotFound");
  const auto found = answer_api_for(parse_api_path("/api/v1/namespaces/shop/services/web"),
                                    snapshot, {}, lb::Clock::now());
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

TEST_CASE("kubectl's table for services: its columns, ports with nodePorts, ages") {
  conf::Snapshot snapshot = snapshot_with_web();
  snapshot.proxy.node_port_addresses = {"127.0.0.1"};
  snapshot.services.mutate(0).created.rfc3339 = "2026-12-03T08:00:00Z";
  conf::Service lb = snapshot.services[0];
  lb.name = "edge";
  lb.type = conf::ServiceType::LoadBalancer;
  lb.headless = false;
  lb.selector = {};
  lb.created.rfc3339 = "";
  snapshot.services.push_back(lb);
  ApiQuery table;
  table.table = true;
  const auto answer =
      answer_api_for(parse_api_path("/api/v1/services"), snapshot, {}, lb::Clock::now(), table);
  CHECK(column_names(answer) == std::vector<std::string>{"Name", "Type", "Cluster-IP",
                                                         "External-IP", "Port(s)", "Age",
                                                         "Selector"});
  const auto rows = table_cells(answer);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0][0] == "web");
  CHECK(rows[0][1] == "NodePort");
  CHECK(rows[0][2] == "127.96.0.10");
  CHECK(rows[0][3] == "<none>");
  CHECK(rows[0][4] == "80:30080/TCP");
  CHECK(rows[0][6] == "app=web");
  CHECK(rows[1][3] == "127.0.0.1");  // no ingress IPs: where each instance listens
  CHECK(rows[1][5] == "<unknown>");
  CHECK(rows[1][6] == "<none>");
  // Each row's object is the metadata kubectl adds NAMESPACE from under -A.
  CHECK(answer.body.at("rows").at(0).at("object").at("metadata").at("namespace") == "shop");
}

TEST_CASE("ages print as kubectl prints them") {
  CHECK(human_duration(45) == "45s");
  CHECK(human_duration(119) == "119s");
  CHECK(human_duration(200) == "3m20s");
  CHECK(human_duration(600) == "10m");
  CHECK(human_duration(3 * 3600 + 120) == "3h2m");
  CHECK(human_duration(30 * 3600) == "30h");
  CHECK(human_duration(3 * 86400 + 3600) == "3d1h");
  CHECK(human_duration(100 * 86400) == "100d");
  CHECK(human_duration(-5) == "<invalid>");
  CHECK(*parse_rfc3339("1970-01-01T00:01:00Z") == 60);
  CHECK(*parse_rfc3339("1970-01-01T01:00:00.5+01:00") == doctest::Approx(0.5));
  CHECK_FALSE(parse_rfc3339("yesterday"));
}

TEST_CASE("label and field selectors choose what a list holds") {
  conf::Snapshot snapshot = snapshot_with_web();
  for (const char* name : {"web-1", "web-2", "db-1"}) {
    conf::Pod pod;
    pod.namespace_name = "shop";
    pod.name = name;
    pod.labels = {{"app", std::string(name).substr(0, std::string(name).find('-'))},
                  {"tier", name[0] == 'w' ? "front" : "back"}};
    pod.pod_ip = "127.0.1.1";
    snapshot.pods.push_back(pod);
  }
  const auto names = [&](const std::string& labels, const std::string& fields) {
    ApiQuery query;
    query.label_selector = labels;
    query.field_selector = fields;
    const auto answer =
        answer_api_for(parse_api_path("/api/v1/pods"), snapshot, {}, lb::Clock::now(), query);
    std::vector<std::string> out;
    for (const auto& item : answer.body.at("items").as_array())
      out.emplace_back(item.at("metadata").at("name").as_string());
    return out;
  };
  CHECK(names("app=web", "") == std::vector<std::string>{"web-1", "web-2"});
  CHECK(names("app!=web", "") == std::vector<std::string>{"db-1"});
  CHECK(names("tier in (back, front),app notin (db)", "") ==
        std::vector<std::string>{"web-1", "web-2"});
  CHECK(names("!tier", "").empty());
  CHECK(names("tier", "metadata.name=web-2") == std::vector<std::string>{"web-2"});
  CHECK(names("", "metadata.name!=web-2,metadata.namespace==shop") ==
        std::vector<std::string>{"web-1", "db-1"});
  ApiQuery bad;
  bad.field_selector = "spec.replicas=3";
  const auto refused =
      answer_api_for(parse_api_path("/api/v1/pods"), snapshot, {}, lb::Clock::now(), bad);
  CHECK(refused.status == 400);
  CHECK(refused.body.at("reason") == "BadRequest");
  bad.field_selector = "";
  bad.label_selector = "app in web";
  CHECK(
      answer_api_for(parse_api_path("/api/v1/pods"), snapshot, {}, lb::Clock::now(), bad).status ==
      400);
  const auto query = parse_api_query("labelSelector=app%3Dweb&fieldSelector=metadata.name%3Dx",
                                     "application/json;as=Table;v=v1;g=meta.k8s.io");
  CHECK(query.label_selector == "app=web");
  CHECK(query.field_selector == "metadata.name=x");
  CHECK(query.table);
}

TEST_CASE("pods are Running, ready as svcproxy decided; endpoint slices carry conditions") {
  conf::Snapshot snapshot = snapshot_with_web();
  for (const char* name : {"web-1", "web-2"}) {
    conf::Pod pod;
    pod.namespace_name = "shop";
    pod.name = name;
    pod.pod_ip = name[4] == '1' ? "127.0.1.1" : "127.0.1.2";
    pod.node_name = "node-1";
    snapshot.pods.push_back(pod);
  }
  const auto backends = backends_for(
      snapshot, {endpoint("web-1", "127.0.1.1", false), endpoint("web-2", "127.0.1.2", true)});
  ApiQuery table;
  table.table = true;
  const auto pods = table_cells(answer_api_for(parse_api_path("/api/v1/namespaces/shop/pods"),
                                               snapshot, backends, lb::Clock::now(), table));
  REQUIRE(pods.size() == 2);
  CHECK(pods[0] == std::vector<std::string>{"web-1", "1/1", "Running", "0", pods[0][4], "127.0.1.1",
                                            "node-1", "<none>", "<none>"});
  CHECK(pods[1][1] == "0/1");  // its probe has not passed yet

  const auto slices = answer_api_for(parse_api_path("/apis/discovery.k8s.io/v1/endpointslices"),
                                     snapshot, backends, lb::Clock::now());
  CHECK(slices.body.at("kind") == "EndpointSliceList");
  CHECK(slices.body.at("apiVersion") == "discovery.k8s.io/v1");
  const auto& slice = slices.body.at("items").at(0);
  CHECK(slice.at("metadata").at("name") == "web-http");
  CHECK(slice.at("metadata").at("labels").at("kubernetes.io/service-name") == "web");
  CHECK(slice.at("ports").at(0).at("port") == 8080);
  CHECK(slice.at("endpoints").at(1).at("conditions").at("ready") == false);
  const auto endpoints = table_cells(answer_api_for(parse_api_path("/api/v1/endpoints"), snapshot,
                                                    backends, lb::Clock::now(), table));
  CHECK(endpoints[0][1] == "127.0.1.1:8080");
}

// EndpointSliceController: one addressType per slice, so IPv4 and IPv6 pods part.
TEST_CASE("EndpointSlices hold one address family each") {
  const auto snapshot = snapshot_with_web();
  const auto backends = backends_for(
      snapshot, {endpoint("web-1", "127.0.1.1", false), endpoint("web-2", "fd00::2", false)});
  const auto slices = answer_api_for(parse_api_path("/apis/discovery.k8s.io/v1/endpointslices"),
                                     snapshot, backends, lb::Clock::now());
  const auto& items = slices.body.at("items").as_array();
  REQUIRE(items.size() == 2);
  CHECK(items.at(0).at("metadata").at("name") == "web-http-8080");
  CHECK(items.at(0).at("addressType") == "IPv4");
  CHECK(items.at(0).at("endpoints").at(0).at("addresses") == json::array{"127.0.1.1"});
  CHECK(items.at(1).at("metadata").at("name") == "web-http-8080-ipv6");
  CHECK(items.at(1).at("addressType") == "IPv6");
  CHECK(items.at(1).at("endpoints").at(0).at("addresses") == json::array{"fd00::2"});
}

// As the EndpointSlice controller writes them: endpoints[].zone from the pod's Node, and
// for trafficDistribution PreferClose hints.forZones = [its own zone] on each ready endpoint
// (trafficdist.go, preferCloseHeuristic.update).
TEST_CASE("PreferClose: slices carry zones and hints, the Service its trafficDistribution") {
  conf::Snapshot snapshot = snapshot_with_web();
  snapshot.services.mutate(0).prefer_close = true;
  snapshot.proxy.node_name = "node-a";
  snapshot.proxy.zone = "zone-a";
  snapshot.proxy.nodes = {{"node-b", "", "zone-b"}};
  auto zoned = [](const std::string& pod, const std::string& ip, const std::string& zone,
                  bool probed) {
    lb::EndpointAddress address{"shop", pod, ip, 8080, "node-x", std::nullopt, zone};
    if (probed) address.readiness_probe = conf::Probe{};
    return std::make_shared<lb::Endpoint>(address);
  };
  const auto backends =
      backends_for(snapshot, {zoned("web-1", "127.0.1.1", "zone-a", false),
                              zoned("web-2", "127.0.1.2", "zone-b", true),  // not ready yet
                              zoned("web-3", "127.0.1.3", "", false)});
  const auto slices = answer_api_for(parse_api_path("/apis/discovery.k8s.io/v1/endpointslices"),
                                     snapshot, backends, lb::Clock::now());
  const auto& endpoints = slices.body.at("items").at(0).at("endpoints");
  CHECK(endpoints.at(0).at("zone") == "zone-a");
  CHECK(json::serialize(endpoints.at(0).at("hints")) == R"({"forZones":[{"name":"zone-a"}]})");
  CHECK(endpoints.at(1).at("zone") == "zone-b");
  CHECK_FALSE(endpoints.at(1).as_object().contains("hints"));  // only ready ones are hinted
  CHECK_FALSE(endpoints.at(2).as_object().contains("zone"));
  CHECK_FALSE(endpoints.at(2).as_object().contains("hints"));
  const auto services =
      answer_api_for(parse_api_path("/api/v1/services"), snapshot, backends, lb::Clock::now());
  CHECK(services.body.at("items").at(0).at("spec").at("trafficDistribution") == "PreferClose");
  const auto nodes =
      answer_api_for(parse_api_path("/api/v1/nodes"), snapshot, backends, lb::Clock::now());
  const auto& items = nodes.body.at("items");
  REQUIRE(items.as_array().size() == 2);
  CHECK(items.at(0).at("metadata").at("labels").at("topology.kubernetes.io/zone") == "zone-b");
  CHECK(items.at(1).at("metadata").at("name") == "node-a");
  CHECK(items.at(1).at("metadata").at("labels").at("topology.kubernetes.io/zone") == "zone-a");

  snapshot.services.mutate(0).prefer_close = false;  // zones stay, hints go
  const auto plain = answer_api_for(parse_api_path("/apis/discovery.k8s.io/v1/endpointslices"),
                                    snapshot, backends, lb::Clock::now());
  const auto& first = plain.body.at("items").at(0).at("endpoints").at(0);
  CHECK(first.at("zone") == "zone-a");
  CHECK_FALSE(first.as_object().contains("hints"));
}

TEST_CASE("discovery names every resource, in its group, with kubectl's short names") {
  const auto version = answer_discovery("/version", "127.0.0.1:10249");
  REQUIRE(version);
  CHECK(version->body.at("major") == "1");
  const auto core = answer_discovery("/api", "127.0.0.1:10249");
  CHECK(core->body.at("versions").at(0) == "v1");
  const auto groups = answer_discovery("/apis", "");
  CHECK(groups->body.at("groups").as_array().size() == 2);
  const auto v1 = answer_discovery("/api/v1", "");
  std::vector<std::string> names;
  for (const auto& resource : v1->body.at("resources").as_array())
    names.emplace_back(resource.at("name").as_string());
  CHECK(names ==
        std::vector<std::string>{"services", "endpoints", "pods", "nodes", "namespaces", "events"});
  CHECK(v1->body.at("resources").at(0).at("shortNames").at(0) == "svc");
  const auto apps = answer_discovery("/apis/apps/v1", "");
  CHECK(apps->body.at("resources").at(0).at("name") == "deployments");
  CHECK_FALSE(answer_discovery("/apis/batch/v1", ""));
  CHECK_FALSE(answer_discovery("/api/v2", ""));
}

TEST_CASE("discovery lists write verbs and deployments/scale only when writes are served") {
  const auto verbs_of = [](const ApiAnswer& answer, std::string_view name) {
    std::vector<std::string> verbs;
    for (const auto& resource : answer.body.at("resources").as_array())
      if (resource.at("name").as_string() == name)
        for (const auto& verb : resource.at("verbs").as_array())
          verbs.emplace_back(verb.as_string());
    return verbs;
  };
  const auto read_only = answer_discovery("/api/v1", "", false);
  CHECK(verbs_of(*read_only, "services") == std::vector<std::string>{"get", "list", "watch"});
  const auto writable = answer_discovery("/api/v1", "", true);
  CHECK(verbs_of(*writable, "services") ==
        std::vector<std::string>{"get", "list", "watch", "create", "delete", "patch", "update"});
  CHECK(verbs_of(*writable, "endpoints") == std::vector<std::string>{"get", "list", "watch"});
  const auto apps = answer_discovery("/apis/apps/v1", "", true);
  CHECK(verbs_of(*apps, "deployments/scale") == std::vector<std::string>{"get", "patch", "update"});
  const auto scale = parse_api_path("/apis/apps/v1/namespaces/shop/deployments/web/scale");
  REQUIRE(scale);
  CHECK((scale->name == "web" && scale->subresource == "scale"));
  CHECK_FALSE(parse_api_path("/apis/apps/v1/namespaces/shop/deployments/web/status"));
  CHECK_FALSE(parse_api_path("/api/v1/namespaces/shop/services/web/scale"));
}

TEST_CASE("openapi v3 declares server-side field validation for each stored kind's PATCH") {
  const auto root = answer_discovery("/openapi/v3", "");
  REQUIRE(root);
  const std::string url(root->body.at("paths").at("api/v1").at("serverRelativeURL").as_string());
  CHECK(url.starts_with("/openapi/v3/api/v1?hash="));
  const auto core = answer_discovery("/openapi/v3/api/v1", "");
  REQUIRE(core);
  const auto& patch =
      core->body.at("paths").at("/api/v1/namespaces/{namespace}/services/{name}").at("patch");
  CHECK(patch.at("x-kubernetes-group-version-kind").at("kind") == "Service");
  CHECK(patch.at("parameters").at(0).at("name") == "fieldValidation");
  const auto apps = answer_discovery("/openapi/v3/apis/apps/v1", "");
  CHECK(apps->body.at("paths").as_object().contains(
      "/apis/apps/v1/namespaces/{namespace}/deployments/{name}"));
  CHECK_FALSE(answer_discovery("/openapi/v3/apis/batch/v1", ""));
}

TEST_CASE("openapi v2 is an empty document, as protobuf when asked for it") {
  const auto json_form = openapi_v2("application/json");
  CHECK(json_form.content_type == "application/json");
  CHECK(boost::json::parse(json_form.body).at("swagger") == "2.0");
  const auto proto = openapi_v2("application/com.github.proto-openapi.spec.v2@v1.0+protobuf");
  CHECK(proto.content_type == "application/octet-stream");
  // swagger = "2.0" (field 1), info (2) {title, version}, paths (8) empty.
  CHECK(proto.body.substr(0, 5) == std::string("\x0a\x03"
                                               "2.0",
                                               5));
  CHECK(proto.body.substr(proto.body.size() - 2) == std::string("\x42\x00", 2));
}

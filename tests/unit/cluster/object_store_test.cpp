// apply/delete against an in-memory store with etcd's transaction semantics, run as
// interleaved coroutines: every store call yields first, so concurrent applies race the way
// separate processes do.
// GCC 12 reports a false mismatched-new-delete on Asio's awaitable frames in this file.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#include "cluster/object_store.hpp"

#include <doctest/doctest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <map>
#include <set>

#include "cluster/pod_status_writer.hpp"
#include "fake_store.hpp"

namespace svcproxy::cluster {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using asio::awaitable;
using testing::FakeStore;

conf::ManifestObject service(const std::string& name, std::string_view spec) {
  json::object document =
      json::parse(R"({"apiVersion":"v1","kind":"Service","metadata":{"name":")" + name +
                  R"("},"spec":)" + std::string(spec) + "}")
          .as_object();
  return {"v1", "Service", "default", name, std::move(document), {"svc.yaml", 1, 1}};
}

conf::ManifestObject node_port_service(const std::string& name, int node_port = 0) {
  return service(name, R"({"type":"NodePort","selector":{"app":"web"},"ports":[{"name":"http",
                          "port":80)" +
                           (node_port ? ",\"nodePort\":" + std::to_string(node_port) : "") + "}]}");
}

StoreSettings small_pools() {
  conf::ProxySettings proxy;
  proxy.service_cidr = "127.96.0.0/27";  // 30 addresses
  proxy.node_port_range = {30000, 30031};
  return store_settings(proxy, "/registry");
}

std::vector<StoreReport> run_all(FakeStore& store, const StoreSettings& settings,
                                 const std::vector<conf::ManifestObject>& objects,
                                 bool deleting = false) {
  asio::io_context io;
  std::vector<StoreReport> reports(objects.size());
  for (std::size_t i = 0; i < objects.size(); ++i)
    asio::co_spawn(
        io,
        [&, i]() -> awaitable<void> {
          if (deleting)
            reports[i] = co_await delete_object(store, settings, objects[i]);
          else
            reports[i] = co_await apply_object(store, settings, objects[i]);
        },
        asio::detached);
  io.run();
  return reports;
}

json::object stored(const FakeStore& store, const std::string& key) {
  return json::parse(store.kvs.at(key).value).as_object();
}

TEST_CASE("apply creates, then reports unchanged, then configured, keeping the addresses") {
  FakeStore store;
  const auto settings = small_pools();
  CHECK(run_all(store, settings, {node_port_service("web")})[0].line() == "service/web created");
  const auto first = stored(store, "/registry/services/specs/default/web");
  const std::string ip(first.at("spec").at("clusterIP").as_string());
  const auto node_port = first.at("spec").at("ports").as_array()[0].at("nodePort").as_int64();
  CHECK(store.under("/registry/ranges/") ==
        std::map<std::string, std::string>{
            {"/registry/ranges/serviceips/" + ip, "default/web"},
            {"/registry/ranges/servicenodeports/" + std::to_string(node_port), "default/web"}});
  CHECK(run_all(store, settings, {node_port_service("web")})[0].line() == "service/web unchanged");
  auto changed = node_port_service("web");
  changed.json["spec"].as_object()["sessionAffinity"] = "ClientIP";
  CHECK(run_all(store, settings, {changed})[0].line() == "service/web configured");
  const auto after = stored(store, "/registry/services/specs/default/web");
  CHECK(after.at("spec").at("clusterIP").as_string() == ip);
  CHECK(after.at("spec").at("ports").as_array()[0].at("nodePort").as_int64() == node_port);
  CHECK(after.at("metadata").at("uid") == first.at("metadata").at("uid"));
}

TEST_CASE("twenty concurrent applies of different Services never share an address") {
  FakeStore store;
  const auto settings = small_pools();
  std::vector<conf::ManifestObject> objects;
  for (int i = 0; i < 20; ++i)
    objects.push_back(node_port_service("svc-" + std::to_string(i)));
  const auto reports = run_all(store, settings, objects);
  std::set<std::string> ips;
  std::set<std::int64_t> node_ports;
  for (int i = 0; i < 20; ++i) {
    CHECK(reports[i].outcome == StoreOutcome::Created);
    const auto object = stored(store, "/registry/services/specs/default/svc-" + std::to_string(i));
    ips.insert(std::string(object.at("spec").at("clusterIP").as_string()));
    node_ports.insert(object.at("spec").at("ports").as_array()[0].at("nodePort").as_int64());
  }
  CHECK(ips.size() == 20);
  CHECK(node_ports.size() == 20);
  CHECK(store.under("/registry/ranges/").size() == 40);
  CHECK(store.transactions > 20);  // they did race
}

TEST_CASE("two concurrent applies of the same Service converge on one allocation") {
  FakeStore store;
  const auto reports =
      run_all(store, small_pools(), {node_port_service("web"), node_port_service("web")});
  std::multiset<std::string> lines{reports[0].line(), reports[1].line()};
  CHECK(lines == std::multiset<std::string>{"service/web created", "service/web unchanged"});
  CHECK(store.under("/registry/ranges/").size() == 2);
}

TEST_CASE("a written NodePort another Service holds is an error naming the holder") {
  FakeStore store;
  const auto settings = small_pools();
  run_all(store, settings, {node_port_service("one", 30005)});
  const auto report = run_all(store, settings, {node_port_service("two", 30005)})[0];
  REQUIRE(report.outcome == StoreOutcome::Failed);
  REQUIRE(report.error);
  CHECK(report.error->field_path == "spec.ports[0].nodePort");
  CHECK(report.error->message.find("default/one") != std::string::npos);
  CHECK_FALSE(store.kvs.contains("/registry/services/specs/default/two"));
}

TEST_CASE("delete frees what the Service held; deleting twice is not found") {
  FakeStore store;
  const auto settings = small_pools();
  run_all(store, settings, {node_port_service("web")});
  CHECK(run_all(store, settings, {node_port_service("web")}, true)[0].line() ==
        "service/web deleted");
  CHECK(store.kvs.empty());
  CHECK(run_all(store, settings, {node_port_service("web")}, true)[0].outcome ==
        StoreOutcome::NotFound);
}

TEST_CASE("a ClusterIP Service turned NodePort gets a port; turned back, frees it") {
  FakeStore store;
  const auto settings = small_pools();
  const auto cluster_ip = service("web", R"({"ports":[{"port":80}]})");
  run_all(store, settings, {cluster_ip});
  CHECK(store.under("/registry/ranges/servicenodeports/").empty());
  run_all(store, settings, {node_port_service("web")});
  CHECK(store.under("/registry/ranges/servicenodeports/").size() == 1);
  run_all(store, settings, {cluster_ip});
  CHECK(store.under("/registry/ranges/servicenodeports/").empty());
  CHECK(store.under("/registry/ranges/serviceips/").size() == 1);
}

// allocHealthCheckNodePort, as in file mode: LoadBalancer + Local holds one more port of the
// NodePort range, kept across applies, freed when the policy goes back to Cluster.
TEST_CASE("a LoadBalancer with externalTrafficPolicy Local holds a healthCheckNodePort") {
  FakeStore store;
  const auto settings = small_pools();
  const auto local = service("web", R"({"type":"LoadBalancer","externalTrafficPolicy":"Local",
                                       "ports":[{"port":80}]})");
  REQUIRE(run_all(store, settings, {local})[0].outcome == StoreOutcome::Created);
  const auto spec = stored(store, "/registry/services/specs/default/web").at("spec").as_object();
  const auto health = spec.at("healthCheckNodePort").as_int64();
  const auto node_port = spec.at("ports").as_array()[0].at("nodePort").as_int64();
  CHECK(health != node_port);
  CHECK(health >= 30000);
  CHECK(health <= 30031);
  CHECK(store.under("/registry/ranges/servicenodeports/").size() == 2);
  CHECK(run_all(store, settings, {local})[0].outcome == StoreOutcome::Unchanged);
  // Another Service asking for that port is told who holds it.
  const auto taken = service("other", R"({"type":"LoadBalancer","externalTrafficPolicy":"Local",
                                         "healthCheckNodePort":)" +
                                          std::to_string(health) + R"(,"ports":[{"port":80}]})");
  const auto report = run_all(store, settings, {taken})[0];
  REQUIRE(report.error);
  CHECK(report.error->field_path == "spec.healthCheckNodePort");
  CHECK(report.error->message.find("default/web") != std::string::npos);
  run_all(store, settings,
          {service("web", R"({"type":"LoadBalancer","ports":[{"port":80,"nodePort":)" +
                              std::to_string(node_port) + "}]}")});
  CHECK(store.under("/registry/ranges/servicenodeports/").size() == 1);
}

TEST_CASE("re-applying a Pod keeps the Ready condition its node wrote") {
  FakeStore store;
  const auto settings = small_pools();
  json::object pod = json::parse(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},
                                     "spec":{"nodeName":"n1"},"status":{"podIP":"127.0.1.1"}})")
                         .as_object();
  const conf::ManifestObject object{"v1", "Pod", "default", "p", pod, {"pod.yaml", 1, 1}};
  run_all(store, settings, {object});
  KeyValue& kv = store.kvs.at("/registry/pods/default/p");
  kv.value = *with_ready_condition(kv.value, true);
  CHECK(pod_ready_condition(kv.value) == true);
  CHECK_FALSE(with_ready_condition(kv.value, true));  // already says so: no write
  CHECK(run_all(store, settings, {object})[0].line() == "pod/p unchanged");
  CHECK(pod_ready_condition(store.kvs.at("/registry/pods/default/p").value) == true);
}

// The etcd allocation picks IPv4 ClusterIPs only: an IPv6 range is refused, not half served.
TEST_CASE("cluster mode refuses an IPv6 or dual-stack serviceCIDR") {
  conf::ProxySettings proxy;
  CHECK_FALSE(unsupported_service_cidr(proxy));
  proxy.service_cidr = "127.96.0.0/12,fd00:10:96::/112";
  CHECK(unsupported_service_cidr(proxy) ==
        "serviceCIDR \"127.96.0.0/12,fd00:10:96::/112\": cluster mode allocates IPv4 ClusterIPs "
        "only (an IPv6 or dual-stack serviceCIDR works in file mode)");
  proxy.service_cidr = "fd00:10:96::/112";
  CHECK(unsupported_service_cidr(proxy));
}

}  // namespace
}  // namespace svcproxy::cluster

// API writes against an in-memory store: the verbs kubectl sends, answered with the status
// codes and Status bodies kubectl expects, and what ends up stored.
// GCC 12 reports a false mismatched-new-delete on Asio's awaitable frames in this file.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#include "server/admin/api_writes.hpp"

#include <doctest/doctest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include "../../cluster/fake_store.hpp"

namespace svcproxy::server {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
namespace http = boost::beast::http;
using cluster::testing::FakeStore;

const char* kService = R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"web"},
  "spec":{"type":"NodePort","selector":{"app":"web"},
          "ports":[{"name":"http","port":80,"targetPort":8080}]}})";

struct Api {
  FakeStore store;
  ApiWriteContext context{store, cluster::store_settings(conf::ProxySettings{}, "/registry"), {}};

  ApiAnswer send(http::verb method, const std::string& path, std::string body = "",
                 std::string content_type = "application/json") {
    ApiWriteRequest request{method, *parse_api_path(path), "", std::move(content_type),
                            std::move(body)};
    asio::io_context io;
    ApiAnswer answer;
    asio::co_spawn(io, answer_write(std::move(request), context),
                   [&](std::exception_ptr failure, ApiAnswer result) {
                     REQUIRE_FALSE(failure);
                     answer = std::move(result);
                   });
    io.run();
    return answer;
  }

  json::object stored(const std::string& key) {
    return json::parse(store.kvs.at(key).value).as_object();
  }
};

std::string reason(const ApiAnswer& answer) {
  return std::string(answer.body.at("reason").as_string());
}

TEST_CASE("api writes: create is 201 with the allocation, a second create 409 AlreadyExists") {
  Api api;
  const auto created = api.send(http::verb::post, "/api/v1/namespaces/default/services", kService);
  REQUIRE(created.status == 201);
  const auto& spec = created.body.at("spec").as_object();
  CHECK(spec.at("clusterIP").as_string().starts_with("127."));
  CHECK(spec.at("ports").as_array()[0].at("nodePort").as_int64() >= 30000);
  const auto key = "/registry/services/specs/default/web";
  CHECK(created.body.at("metadata").at("resourceVersion").as_string() ==
        std::to_string(api.store.kvs.at(key).mod_revision));
  const auto again = api.send(http::verb::post, "/api/v1/namespaces/default/services", kService);
  CHECK(again.status == 409);
  CHECK(reason(again) == "AlreadyExists");
  CHECK(again.body.at("message").as_string() == "services \"web\" already exists");
}

TEST_CASE("api writes: PUT with a stale resourceVersion is 409 Conflict and changes nothing") {
  Api api;
  auto created = api.send(http::verb::post, "/api/v1/namespaces/default/services", kService);
  REQUIRE(created.status == 201);
  json::object edited = created.body.as_object();
  edited["metadata"].as_object()["labels"] = json::object{{"tier", "front"}};
  const auto put =
      api.send(http::verb::put, "/api/v1/namespaces/default/services/web", json::serialize(edited));
  REQUIRE(put.status == 200);
  CHECK(put.body.at("metadata").at("labels").at("tier") == "front");
  // `edited` still carries the first resourceVersion.
  edited["metadata"].as_object()["labels"] = json::object{{"tier", "stale"}};
  const auto stale =
      api.send(http::verb::put, "/api/v1/namespaces/default/services/web", json::serialize(edited));
  CHECK(stale.status == 409);
  CHECK(reason(stale) == "Conflict");
  CHECK(api.stored("/registry/services/specs/default/web").at("metadata").at("labels").at("tier") ==
        "front");
  CHECK(api.send(http::verb::put, "/api/v1/namespaces/default/services/nope",
                 R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"nope"}})")
            .status == 404);
}

TEST_CASE("api writes: an invalid manifest is 422 with the field kubectl prints; nothing stored") {
  Api api;
  const auto answer = api.send(http::verb::post, "/api/v1/namespaces/default/services",
                               R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"web"},
      "spec":{"selector":{"app":"web"},"ports":[{"port":70000}]}})");
  CHECK(answer.status == 422);
  CHECK(reason(answer) == "Invalid");
  const auto& causes = answer.body.at("details").at("causes").as_array();
  REQUIRE(causes.size() == 1);
  CHECK(causes[0].at("field") == "spec.ports[0].port");
  CHECK(std::string(answer.body.at("message").as_string())
            .starts_with("Service \"web\" is invalid: spec.ports[0].port: "));
  CHECK(api.store.kvs.empty());
}

TEST_CASE("api writes: an explicit clusterIP another Service holds is 422 at spec.clusterIP") {
  Api api;
  const auto one = api.send(http::verb::post, "/api/v1/namespaces/default/services", kService);
  REQUIRE(one.status == 201);
  const std::string ip(one.body.at("spec").at("clusterIP").as_string());
  const auto two = api.send(http::verb::post, "/api/v1/namespaces/default/services",
                            R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"two"},
      "spec":{"clusterIP":")" + ip +
                                R"(","selector":{"app":"web"},"ports":[{"port":80}]}})");
  CHECK(two.status == 422);
  const auto& cause = two.body.at("details").at("causes").as_array().at(0);
  CHECK(cause.at("field") == "spec.clusterIP");
  CHECK(std::string(cause.at("message").as_string()).find("default/web") != std::string::npos);
}

TEST_CASE("api writes: the body must match the URL's kind, namespace and name") {
  Api api;
  CHECK(api.send(http::verb::post, "/api/v1/namespaces/default/pods", kService).status == 400);
  CHECK(api.send(http::verb::post, "/api/v1/namespaces/shop/services",
                 R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"web",
                     "namespace":"default"},"spec":{"ports":[{"port":80}]}})")
            .status == 400);
  CHECK(api.send(http::verb::post, "/api/v1/namespaces/default/services", "{not json").status ==
        400);
  CHECK(api.send(http::verb::post, "/api/v1/namespaces/default/endpoints", "{}").status == 405);
  CHECK(api.store.kvs.empty());
}

TEST_CASE("api writes: a merge patch changes one field and keeps the allocation") {
  Api api;
  const auto created = api.send(http::verb::post, "/api/v1/namespaces/default/services", kService);
  REQUIRE(created.status == 201);
  const auto patched =
      api.send(http::verb::patch, "/api/v1/namespaces/default/services/web",
               R"({"spec":{"sessionAffinity":"ClientIP"}})", "application/merge-patch+json");
  REQUIRE(patched.status == 200);
  const auto stored = api.stored("/registry/services/specs/default/web");
  CHECK(stored.at("spec").at("sessionAffinity") == "ClientIP");
  CHECK(stored.at("spec").at("clusterIP") == created.body.at("spec").at("clusterIP"));
  CHECK(api.send(http::verb::patch, "/api/v1/namespaces/default/services/web", "{}", "text/plain")
            .status == 415);
  CHECK(api.send(http::verb::patch, "/api/v1/namespaces/default/services/nope", "{}",
                 "application/merge-patch+json")
            .status == 404);
}

TEST_CASE("api writes: server-side apply creates, then replaces what was applied") {
  Api api;
  const char* applied = R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"web",
      "labels":{"a":"1"}},"spec":{"selector":{"app":"web"},"ports":[{"port":80}]}})";
  const auto first = api.send(http::verb::patch, "/api/v1/namespaces/default/services/web", applied,
                              "application/apply-patch+yaml");
  REQUIRE(first.status == 201);
  const auto ip = first.body.at("spec").at("clusterIP");
  const auto second = api.send(
      http::verb::patch, "/api/v1/namespaces/default/services/web",
      "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector: {app: web}\n"
      "  ports: [{port: 81}]\n",
      "application/apply-patch+yaml");
  REQUIRE(second.status == 200);
  const auto stored = api.stored("/registry/services/specs/default/web");
  CHECK_FALSE(stored.at("metadata").as_object().contains("labels"));
  CHECK(stored.at("spec").at("ports").as_array()[0].at("port") == 81);
  CHECK(stored.at("spec").at("clusterIP") == ip);
}

TEST_CASE("api writes: scale sets spec.replicas and says svcproxy runs no pods") {
  Api api;
  const char* deployment = R"({"apiVersion":"apps/v1","kind":"Deployment",
      "metadata":{"name":"web","annotations":{"svcproxy.io/dns":"web"}},
      "spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},
              "template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[]}}}})";
  REQUIRE(api.send(http::verb::post, "/apis/apps/v1/namespaces/default/deployments", deployment)
              .status == 201);
  const auto scaled =
      api.send(http::verb::patch, "/apis/apps/v1/namespaces/default/deployments/web/scale",
               R"({"spec":{"replicas":5}})", "application/merge-patch+json");
  REQUIRE(scaled.status == 200);
  CHECK(scaled.body.at("kind") == "Scale");
  CHECK(scaled.body.at("spec").at("replicas") == 5);
  CHECK(api.stored("/registry/deployments/default/web").at("spec").at("replicas") == 5);
  REQUIRE(scaled.warnings.size() == 1);
  CHECK(scaled.warnings[0].find("backed by DNS") != std::string::npos);
}

TEST_CASE("api writes: delete answers Success, then 404; a stale precondition is 409") {
  Api api;
  const auto created = api.send(http::verb::post, "/api/v1/namespaces/default/services", kService);
  REQUIRE(created.status == 201);
  CHECK(api.send(http::verb::delete_, "/api/v1/namespaces/default/services/web",
                 R"({"preconditions":{"resourceVersion":"1"}})")
            .status == 409);
  const auto deleted = api.send(http::verb::delete_, "/api/v1/namespaces/default/services/web");
  CHECK(deleted.status == 200);
  CHECK(deleted.body.at("status") == "Success");
  CHECK(api.store.under("/registry/").empty());  // the allocations went with it
  CHECK(api.send(http::verb::delete_, "/api/v1/namespaces/default/services/web").status == 404);
}

}  // namespace
}  // namespace svcproxy::server

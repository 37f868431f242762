// Watch events as the difference of two lists, and list versions that ignore traffic
// counters.
#include "server/admin/api_watch.hpp"

#include <doctest/doctest.h>

#include <boost/json.hpp>

#include "server/admin/admin_api.hpp"

using namespace svcproxy::server;
namespace json = boost::json;

namespace {

json::object endpoints(const std::string& name, bool ready, int connections = 0) {
  return json::parse(R"({"kind":"Endpoints","metadata":{"name":")" + name +
                     R"(","namespace":"shop"},"subsets":[{"addresses":[{"ip":"127.0.1.1",)"
                     R"("conditions":{"ready":)" +
                     (ready ? "true" : "false") + R"(},"svcproxy":{"activeConnections":)" +
                     std::to_string(connections) + "}}]}]}")
      .as_object();
}

std::vector<std::string> types(const std::vector<ApiWatch::Event>& events) {
  std::vector<std::string> out;
  for (const auto& event : events)
    out.push_back(event.type + std::string(" ") +
                  std::string(event.object.at("metadata").at("name").as_string()));
  return out;
}

}  // namespace

TEST_CASE("a watch sends what changed since its last look: added, modified, deleted") {
  ApiWatch watch({endpoints("a", true), endpoints("b", true)});
  CHECK(watch.update({endpoints("a", true), endpoints("b", true)}).empty());
  CHECK(types(watch.update({endpoints("a", false), endpoints("c", true)})) ==
        std::vector<std::string>{"DELETED b", "MODIFIED a", "ADDED c"});
  const auto events = watch.update({endpoints("c", true)});
  REQUIRE(events.size() == 1);
  CHECK(events[0].object.at("subsets").at(0).at("addresses").at(0).at("conditions").at("ready") ==
        false);  // a DELETED event carries the object as it last was
}

TEST_CASE("traffic counters neither change a list's version nor make an event") {
  const std::vector<json::object> idle{endpoints("a", true, 0)};
  const std::vector<json::object> busy{endpoints("a", true, 7)};
  CHECK(list_version(idle) == list_version(busy));
  CHECK(list_version(idle) != list_version({endpoints("a", false, 0)}));
  CHECK(list_version(idle) != list_version({}));
  ApiWatch watch(idle);
  CHECK(watch.update(busy).empty());
}

TEST_CASE("watch events: the object, or a one-row Table; a stale version ends with 410") {
  ApiQuery plain;
  const auto event = watch_event("ADDED", endpoints("a", true), ApiResource::Endpoints, plain);
  CHECK(event.at("type") == "ADDED");
  CHECK(event.at("object").at("kind") == "Endpoints");
  ApiQuery table;
  table.table = true;
  const auto row = watch_event("MODIFIED", endpoints("a", true), ApiResource::Endpoints, table);
  CHECK(row.at("object").at("kind") == "Table");
  CHECK(row.at("object").at("rows").as_array().size() == 1);
  const auto gone = watch_gone("42");
  CHECK(gone.at("type") == "ERROR");
  CHECK(gone.at("object").at("code") == 410);
  CHECK(gone.at("object").at("reason") == "Expired");
  const auto query = parse_api_query("watch=true&resourceVersion=42&timeoutSeconds=5", "");
  CHECK(query.watch);
  CHECK(query.resource_version == "42");
  CHECK(query.timeout_seconds == 5);
  CHECK_FALSE(parse_api_query("watch=false", "").watch);
}

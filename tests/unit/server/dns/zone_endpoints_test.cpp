#include "server/dns/zone_endpoints.hpp"

#include <doctest/doctest.h>

#include "../../discovery/backend_test_support.hpp"

namespace svcproxy::server {
namespace {

using discovery::testing::find;
using discovery::testing::pod;
using discovery::testing::web_snapshot;

conf::Snapshot headless_web() {
  conf::Snapshot snapshot = web_snapshot();
  snapshot.services.mutate(0).headless = true;
  snapshot.pods = conf::PodList({pod("web-1", "10.1.0.1"), pod("web-2", "10.1.0.2")});
  return snapshot;
}

std::vector<std::string> ips(const std::vector<dns::ZoneEndpoint>& endpoints) {
  std::vector<std::string> out;
  for (const auto& endpoint : endpoints)
    out.push_back(endpoint.ip);
  return out;
}

}  // namespace

TEST_CASE("zone_endpoints: the ready endpoints, with each named port's pod port") {
  const conf::Snapshot snapshot = headless_web();
  const auto backends = discovery::build_backends(snapshot, snapshot.pods, {});
  const auto now = lb::Clock::now();
  auto endpoints = zone_endpoints(snapshot.services[0], snapshot, backends, now);
  CHECK(ips(endpoints) == std::vector<std::string>{"10.1.0.1", "10.1.0.2"});
  REQUIRE(endpoints[0].ports.size() == 1);
  CHECK(endpoints[0].ports[0] == std::pair<std::string, int>{"http", 8080});

  SUBCASE("a failing probe or a terminating pod is left out, as the admin API's ready") {
    find(backends, "web-1")->set_ready(false);
    CHECK(ips(zone_endpoints(snapshot.services[0], snapshot, backends, now)) ==
          std::vector<std::string>{"10.1.0.2"});
    find(backends, "web-2")->set_terminating(now);
    CHECK(zone_endpoints(snapshot.services[0], snapshot, backends, now).empty());
  }
  SUBCASE("publishNotReadyAddresses lists the not-ready ones, not the terminating ones") {
    conf::Service service = snapshot.services[0];
    service.publish_not_ready_addresses = true;
    find(backends, "web-1")->set_ready(false);
    find(backends, "web-2")->set_terminating(now);
    CHECK(ips(zone_endpoints(service, snapshot, backends, now)) ==
          std::vector<std::string>{"10.1.0.1"});
  }
}

TEST_CASE("zone_endpoints: a headless Service without ports lists its selected pods") {
  conf::Snapshot snapshot = headless_web();
  snapshot.services.mutate(0).ports.clear();
  conf::Pod done = pod("web-3", "10.1.0.3");
  done.phase = "Succeeded";
  snapshot.pods.push_back(done);
  CHECK(ips(zone_endpoints(snapshot.services[0], snapshot, {}, lb::Clock::now())) ==
        std::vector<std::string>{"10.1.0.1", "10.1.0.2"});
}

}  // namespace svcproxy::server

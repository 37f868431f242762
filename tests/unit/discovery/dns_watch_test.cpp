#include "discovery/dns_watch.hpp"

#include <doctest/doctest.h>

using namespace svcproxy;
using namespace svcproxy::discovery;
using namespace std::chrono_literals;

namespace {

FamilyAnswer ok(std::vector<std::string> ips, std::chrono::seconds ttl = 300s) {
  FamilyAnswer answer{DnsResult::Success, {}};
  for (auto& ip : ips)
    answer.addresses.push_back({ip, ttl});
  return answer;
}
FamilyAnswer fail(DnsResult result) {
  return {result, {}};
}

DnsLookup v4(std::vector<std::string> ips, std::chrono::seconds ttl = 300s) {
  return {ok(std::move(ips), ttl), fail(DnsResult::Empty)};
}
DnsLookup both(DnsResult result) {
  return {fail(result), fail(result)};
}

using Addresses = std::vector<std::string>;

}  // namespace

TEST_CASE("a first answer sets the addresses, sorted and unique") {
  DnsWatchState state;
  const auto outcome = state.on_lookup(v4({"127.0.1.3", "127.0.1.1", "127.0.1.3"}), 5s);
  CHECK(outcome.result == DnsResult::Success);
  CHECK(outcome.changed);
  CHECK(state.addresses() == Addresses{"127.0.1.1", "127.0.1.3"});
  CHECK(state.resolved_once());
  CHECK_FALSE(state.on_lookup(v4({"127.0.1.1", "127.0.1.3"}), 5s).changed);
}

TEST_CASE("A and AAAA answers are merged") {
  DnsWatchState state;
  state.on_lookup({ok({"127.0.1.1"}), ok({"::1"})}, 5s);
  CHECK(state.addresses() == Addresses{"127.0.1.1", "::1"});
}

TEST_CASE("SERVFAIL and timeouts keep the last good answer") {
  DnsWatchState state;
  state.on_lookup(v4({"127.0.1.1", "127.0.1.2"}), 5s);
  for (const auto failure : {DnsResult::ServFail, DnsResult::Timeout}) {
    for (int i = 0; i < 3; ++i) {
      const auto outcome = state.on_lookup(both(failure), 5s);
      CHECK(outcome.result == failure);
      CHECK_FALSE(outcome.changed);
      CHECK(outcome.next_lookup == 5s);
    }
  }
  CHECK(state.addresses() == Addresses{"127.0.1.1", "127.0.1.2"});
}

TEST_CASE("a family that fails transiently keeps its own addresses only") {
  DnsWatchState state;
  state.on_lookup({ok({"127.0.1.1"}), ok({"::2"})}, 5s);
  const auto outcome = state.on_lookup({ok({"127.0.1.9"}), fail(DnsResult::Timeout)}, 5s);
  CHECK(outcome.result == DnsResult::Success);
  CHECK(state.addresses() == Addresses{"127.0.1.9", "::2"});
}

TEST_CASE("NXDOMAIN or an empty answer empties the set only when seen twice in a row") {
  for (const auto negative : {DnsResult::NxDomain, DnsResult::Empty}) {
    DnsWatchState state;
    state.on_lookup(v4({"127.0.1.1"}), 5s);
    auto outcome = state.on_lookup(both(negative), 5s);
    CHECK(outcome.result == negative);
    CHECK_FALSE(outcome.changed);
    CHECK(state.addresses() == Addresses{"127.0.1.1"});

    // A success in between breaks the streak.
    state.on_lookup(v4({"127.0.1.1"}), 5s);
    CHECK_FALSE(state.on_lookup(both(negative), 5s).changed);
    // A transient failure neither confirms nor breaks it.
    CHECK_FALSE(state.on_lookup(both(DnsResult::ServFail), 5s).changed);
    outcome = state.on_lookup(both(negative), 5s);
    CHECK(outcome.changed);
    CHECK(state.addresses().empty());
  }
}

TEST_CASE("NXDOMAIN for A with NODATA for AAAA counts as one negative lookup") {
  DnsWatchState state;
  state.on_lookup(v4({"127.0.1.1"}), 5s);
  const DnsLookup gone{fail(DnsResult::NxDomain), fail(DnsResult::Empty)};
  CHECK(classify(gone) == DnsResult::NxDomain);
  CHECK_FALSE(state.on_lookup(gone, 5s).changed);
  CHECK(state.on_lookup(gone, 5s).changed);
}

TEST_CASE("a name that never resolved stays empty without error") {
  DnsWatchState state;
  const auto outcome = state.on_lookup(both(DnsResult::NxDomain), 5s);
  CHECK_FALSE(outcome.changed);
  CHECK(state.addresses().empty());
  CHECK_FALSE(state.resolved_once());
  CHECK(outcome.next_lookup == 5s);
}

TEST_CASE("the next lookup honours a shorter TTL, never below 1 s") {
  DnsWatchState state;
  CHECK(state.on_lookup(v4({"127.0.1.1"}, 300s), 5s).next_lookup == 5s);
  CHECK(state.on_lookup(v4({"127.0.1.1"}, 3s), 5s).next_lookup == 3s);
  CHECK(state.on_lookup(v4({"127.0.1.1"}, 0s), 5s).next_lookup == 1s);
  CHECK(state.on_lookup({ok({"127.0.1.1"}, 4s), ok({"::1"}, 2s)}, 5s).next_lookup == 2s);
  // A refresh configured below the floor is raised to it.
  CHECK(state.on_lookup(both(DnsResult::Timeout), 200ms).next_lookup == 1s);
}

TEST_CASE("classify: success wins, then timeout, servfail, nxdomain, empty") {
  CHECK(classify({ok({"127.0.1.1"}), fail(DnsResult::Timeout)}) == DnsResult::Success);
  CHECK(classify({fail(DnsResult::NxDomain), fail(DnsResult::Timeout)}) == DnsResult::Timeout);
  CHECK(classify({fail(DnsResult::ServFail), fail(DnsResult::Empty)}) == DnsResult::ServFail);
  CHECK(classify(both(DnsResult::Empty)) == DnsResult::Empty);
  CHECK(std::string(to_string(DnsResult::NxDomain)) == "nxdomain");
}

TEST_CASE("dns_pods: one pod per address with the template's labels and containers") {
  conf::Deployment web;
  web.namespace_name = "shop";
  web.name = "web";
  web.replicas = 3;
  web.template_labels = {{"app", "web"}};
  web.containers.push_back({"nginx", {{"http", 80}}, std::nullopt});
  const auto pods = dns_pods(web, {"127.0.1.1", "fd00::1"});
  REQUIRE(pods.size() == 2);
  CHECK(pods[0].name == "web-127-0-1-1");
  CHECK(pods[1].name == "web-fd00--1");
  CHECK(pods[0].namespace_name == "shop");
  CHECK(pods[0].pod_ip == "127.0.1.1");
  CHECK(pods[1].pod_ip == "fd00::1");
  CHECK(pods[0].labels == conf::Labels{{"app", "web"}});
  REQUIRE(pods[0].containers.size() == 1);
  CHECK(pods[0].containers[0].ports[0].container_port == 80);
  CHECK(pods[0].owner_deployment == "web");
  CHECK(resolved_summary(web, 2) == "deployment shop/web: 2/3 pods resolved");
}

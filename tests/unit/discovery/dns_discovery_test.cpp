#include "discovery/dns_discovery.hpp"

#include <doctest/doctest.h>

#include <boost/asio/io_context.hpp>

using namespace svcproxy;
using namespace svcproxy::discovery;
using namespace std::chrono_literals;

namespace {

// Records lookups; the test answers them by calling the handler.
struct FakeResolver final : DnsResolver {
  struct Request {
    std::string name;
    Handler handler;
  };
  std::vector<Request>& requests;
  std::vector<std::vector<std::string>>& servers;

  FakeResolver(std::vector<Request>& r, std::vector<std::vector<std::string>>& s)
      : requests(r), servers(s) {}
  std::string set_servers(const std::vector<std::string>& list) override {
    servers.push_back(list);
    return {};
  }
  void resolve(const std::string& name, Handler handler) override {
    requests.push_back({name, std::move(handler)});
  }
};

DnsLookup answer(std::vector<std::string> ips) {
  DnsLookup lookup;
  lookup.ipv4.result = DnsResult::Success;
  for (auto& ip : ips)
    lookup.ipv4.addresses.push_back({ip, 30s});
  lookup.ipv6.result = DnsResult::Empty;
  return lookup;
}

DnsLookup nxdomain() {
  DnsLookup lookup;
  lookup.ipv4.result = lookup.ipv6.result = DnsResult::NxDomain;
  return lookup;
}

conf::Snapshot snapshot_with(std::string dns_name) {
  conf::Snapshot snapshot;
  snapshot.proxy.dns_servers = {"127.0.0.1:5353"};
  conf::Deployment web;
  web.name = "web";
  web.replicas = 3;
  web.template_labels = {{"app", "web"}};
  web.dns_name = std::move(dns_name);
  web.dns_refresh = 1s;
  snapshot.deployments.push_back(web);
  conf::Deployment file_only;  // no annotation: not watched
  file_only.name = "static";
  snapshot.deployments.push_back(file_only);
  return snapshot;
}

struct Fixture {
  boost::asio::io_context io;
  std::vector<FakeResolver::Request> requests;
  std::vector<std::vector<std::string>> servers;
  std::vector<std::pair<std::string, std::size_t>> changes;
  std::vector<std::string> warnings;
  DnsDiscovery discovery{io, std::make_unique<FakeResolver>(requests, servers),
                         [this](const std::string& key, const std::vector<conf::Pod>& pods) {
                           changes.emplace_back(key, pods.size());
                         },
                         [this](DnsLogLevel level, const std::string& message) {
                           if (level == DnsLogLevel::Warn) warnings.push_back(message);
                         }};

  // Runs until `requests` has `count` entries, at most 3 s.
  void run_until_requests(std::size_t count) {
    const auto deadline = std::chrono::steady_clock::now() + 3s;
    while (requests.size() < count && std::chrono::steady_clock::now() < deadline) {
      io.restart();  // a run that ran out of work leaves the context stopped
      io.run_for(10ms);
    }
    REQUIRE(requests.size() == count);
  }
};

bool contains(const std::vector<std::string>& lines, const std::string& text) {
  for (const auto& line : lines)
    if (line.find(text) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE_FIXTURE(Fixture, "DnsDiscovery: looks a name up at once and reports its pods") {
  discovery.update(snapshot_with("web.test"));
  CHECK(servers == std::vector<std::vector<std::string>>{{"127.0.0.1:5353"}});
  CHECK(changes.empty());  // never from inside update()
  run_until_requests(1);
  CHECK(requests[0].name == "web.test");

  requests[0].handler(answer({"127.0.1.1", "127.0.1.2"}));
  REQUIRE(changes.size() == 1);
  CHECK(changes[0] == std::pair<std::string, std::size_t>{"default/web", 2});
  CHECK(discovery.pods().size() == 2);
  CHECK(discovery.pods("default/web")[1].name == "web-127-0-1-2");
  CHECK(discovery.counters()[static_cast<int>(DnsResult::Success)] == 1);
  CHECK(contains(warnings, "deployment default/web: 2/3 pods resolved"));

  // The same answer at the next refresh (1 s) changes nothing.
  run_until_requests(2);
  requests[1].handler(answer({"127.0.1.2", "127.0.1.1"}));
  CHECK(changes.size() == 1);
}

TEST_CASE_FIXTURE(Fixture, "DnsDiscovery: a name that does not resolve yet is not an error") {
  discovery.update(snapshot_with("later.test"));
  run_until_requests(1);
  requests[0].handler(nxdomain());
  CHECK(changes.empty());
  CHECK(discovery.pods().empty());
  CHECK(discovery.counters()[static_cast<int>(DnsResult::NxDomain)] == 1);
  CHECK(contains(warnings, "0/3 pods resolved"));
  run_until_requests(2);  // retried at the refresh
  requests[1].handler(answer({"127.0.1.1", "127.0.1.2", "127.0.1.3"}));
  REQUIRE(changes.size() == 1);
  CHECK(discovery.pods().size() == 3);
}

TEST_CASE_FIXTURE(Fixture, "DnsDiscovery: update re-targets and stops watches") {
  discovery.update(snapshot_with("web.test"));
  run_until_requests(1);
  requests[0].handler(answer({"127.0.1.1"}));
  CHECK(discovery.pods().size() == 1);

  discovery.update(snapshot_with("other.test"));
  CHECK(discovery.pods().empty());  // the old name's pods go with it
  run_until_requests(2);
  CHECK(requests[1].name == "other.test");
  requests[0].handler(answer({"127.0.1.9"}));  // a late answer for the old name is ignored
  CHECK(discovery.pods().empty());

  discovery.update(conf::Snapshot{});
  io.restart();
  io.run_for(1500ms);  // no refresh happens for a removed deployment
  CHECK(requests.size() == 2);
  CHECK(servers.size() == 2);  // the servers changed: back to resolv.conf
  CHECK(servers[1].empty());
}

TEST_CASE_FIXTURE(Fixture, "DnsDiscovery: a template change shows in pods() at once") {
  auto snapshot = snapshot_with("web.test");
  discovery.update(snapshot);
  run_until_requests(1);
  requests[0].handler(answer({"127.0.1.1"}));
  snapshot.deployments[0].template_labels = {{"app", "web"}, {"track", "canary"}};
  discovery.update(snapshot);
  CHECK(discovery.pods()[0].labels.at("track") == "canary");
  CHECK(requests.size() == 1);  // same name: no new lookup before the refresh
}

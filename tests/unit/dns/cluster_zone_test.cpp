// The cluster zone's answers, rule by rule of the Kubernetes DNS specification
// (kubernetes/dns docs/specification.md, cited by section) and CoreDNS's kubernetes plugin
// (its handler_test.go cases for NXDOMAIN vs NODATA).
#include "dns/cluster_zone.hpp"

#include <doctest/doctest.h>

#include <map>

namespace svcproxy::dns {
namespace {

conf::Service service(std::string name, std::string namespace_name, std::string cluster_ip) {
  conf::Service out;
  out.name = std::move(name);
  out.namespace_name = std::move(namespace_name);
  out.cluster_ip = std::move(cluster_ip);
  return out;
}

conf::ServicePort port(std::string name, int number) {
  conf::ServicePort out;
  out.name = std::move(name);
  out.port = number;
  out.target_port.number = number;
  return out;
}

struct Fixture {
  conf::Snapshot snapshot;
  std::map<std::string, std::vector<ZoneEndpoint>> endpoints;  // by service key
  ZoneSettings settings;

  Fixture() {
    conf::Service web = service("web", "dev", "10.96.0.10");
    web.ports = {port("http", 80), port("", 8080)};
    conf::Service db = service("db", "dev", "");
    db.headless = true;
    db.ports = {port("pg", 5432)};
    conf::Service empty = service("empty", "dev", "");
    empty.headless = true;
    conf::Service external = service("ext", "dev", "");
    external.type = conf::ServiceType::ExternalName;
    external.external_name = "www.Example.com";
    snapshot.services = conf::ServiceList({web, db, empty, external});
    snapshot.namespaces = {"quiet"};
    endpoints["dev/db"] = {{"10.1.0.1", "", {{"pg", 5432}}}, {"10.1.0.2", "", {{"pg", 5433}}}};
    settings.ttl = 7;
  }

  Response ask(const std::string& name, RecordType type, std::uint16_t klass = kClassIn) {
    const ZoneSource source{snapshot,
                            [this](const conf::Service& s) { return endpoints[s.key()]; }};
    return answer_question({name, {}, static_cast<std::uint16_t>(type), klass}, settings, source);
  }
};

std::vector<std::uint8_t> rdata(const ResourceRecord& record) {
  std::vector<std::uint8_t> out;
  for (const auto& part : record.rdata)
    out.insert(out.end(), part.bytes.begin(), part.bytes.end());
  return out;
}

std::string target(const ResourceRecord& record) {
  for (const auto& part : record.rdata)
    if (part.is_name) return part.name;
  return "";
}

// The SRV target, written uncompressed after priority, weight and port.
std::string srv_target(const ResourceRecord& record) {
  const auto bytes = rdata(record);
  std::string out;
  for (std::size_t at = 6; at < bytes.size() && bytes[at] != 0; at += bytes[at] + 1u) {
    if (!out.empty()) out += '.';
    out.append(bytes.begin() + static_cast<long>(at) + 1,
               bytes.begin() + static_cast<long>(at) + 1 + bytes[at]);
  }
  return out;
}

int srv_port(const ResourceRecord& record) {
  const auto bytes = rdata(record);
  return bytes[4] << 8 | bytes[5];
}

void check_nodata(const Response& response) {
  CHECK(response.rcode == Rcode::NoError);
  CHECK(response.answers.empty());
  REQUIRE(response.authority.size() == 1);
  CHECK(response.authority[0].type == RecordType::SOA);
  CHECK(response.authoritative);
}

void check_nxdomain(const Response& response) {
  CHECK(response.rcode == Rcode::NxDomain);
  CHECK(response.answers.empty());
  REQUIRE(response.authority.size() == 1);
  CHECK(response.authority[0].type == RecordType::SOA);
  CHECK(response.authority[0].name == "cluster.local");
}

}  // namespace

TEST_CASE("2.2: dns-version.<zone> TXT is the schema version") {
  Fixture zone;
  const Response response = zone.ask("dns-version.cluster.local", RecordType::TXT);
  REQUIRE(response.answers.size() == 1);
  CHECK(response.answers[0].type == RecordType::TXT);
  const auto bytes = rdata(response.answers[0]);
  CHECK(std::string(bytes.begin() + 1, bytes.end()) == "1.1.0");
  check_nodata(zone.ask("dns-version.cluster.local", RecordType::A));
}

TEST_CASE("2.3.1: <svc>.<ns>.svc.<zone> A is the ClusterIP, with the TTL, case-insensitive") {
  Fixture zone;
  const Response response = zone.ask("WEB.Dev.svc.cluster.local", RecordType::A);
  CHECK(response.rcode == Rcode::NoError);
  CHECK(response.authoritative);
  REQUIRE(response.answers.size() == 1);
  CHECK(response.answers[0].name == "WEB.Dev.svc.cluster.local");  // as asked
  CHECK(response.answers[0].ttl == 7);
  CHECK(rdata(response.answers[0]) == std::vector<std::uint8_t>{10, 96, 0, 10});
}

TEST_CASE("2.3.1: AAAA of an IPv4-only Service is NODATA; another type too") {
  Fixture zone;
  check_nodata(zone.ask("web.dev.svc.cluster.local", RecordType::AAAA));
  check_nodata(zone.ask("web.dev.svc.cluster.local", RecordType::TXT));
}

TEST_CASE("2.3.1: AAAA of a Service with an IPv6 ClusterIP") {
  Fixture zone;
  zone.snapshot.services.push_back(service("six", "dev", "fd00::10"));
  const Response response = zone.ask("six.dev.svc.cluster.local", RecordType::AAAA);
  REQUIRE(response.answers.size() == 1);
  CHECK(response.answers[0].type == RecordType::AAAA);
  check_nodata(zone.ask("six.dev.svc.cluster.local", RecordType::A));
}

TEST_CASE("2.3.2: _<port>._<proto>.<svc> SRV targets the Service, its A additional") {
  Fixture zone;
  const Response response = zone.ask("_http._tcp.web.dev.svc.cluster.local", RecordType::SRV);
  CHECK(response.rcode == Rcode::NoError);
  REQUIRE(response.answers.size() == 1);
  CHECK(srv_port(response.answers[0]) == 80);
  CHECK(srv_target(response.answers[0]) == "web.dev.svc.cluster.local");
  REQUIRE(response.additional.size() == 1);
  CHECK(response.additional[0].name == "web.dev.svc.cluster.local");
  SUBCASE("an unknown port or protocol is NXDOMAIN") {
    check_nxdomain(zone.ask("_grpc._tcp.web.dev.svc.cluster.local", RecordType::SRV));
    check_nxdomain(zone.ask("_http._udp.web.dev.svc.cluster.local", RecordType::SRV));
  }
  SUBCASE("the SRV name asked for A is NODATA; _tcp.<svc> is an empty non-terminal") {
    check_nodata(zone.ask("_http._tcp.web.dev.svc.cluster.local", RecordType::A));
    check_nodata(zone.ask("_tcp.web.dev.svc.cluster.local", RecordType::SRV));
  }
  SUBCASE("SRV at the Service name: one per port (CoreDNS)") {
    CHECK(zone.ask("web.dev.svc.cluster.local", RecordType::SRV).answers.size() == 2);
  }
}

// kube-dns itself: one port number over UDP and TCP, named apart.
TEST_CASE("2.3.2: a UDP port's SRV is _<port>._udp, a TCP one's _<port>._tcp") {
  Fixture zone;
  conf::Service dns = service("kube-dns", "dev", "10.96.0.53");
  conf::ServicePort udp = port("dns", 53);
  udp.transport = conf::Transport::Udp;
  dns.ports = {udp, port("dns-tcp", 53)};
  zone.snapshot.services.push_back(dns);
  const Response response = zone.ask("_dns._udp.kube-dns.dev.svc.cluster.local", RecordType::SRV);
  REQUIRE(response.answers.size() == 1);
  CHECK(srv_port(response.answers[0]) == 53);
  check_nxdomain(zone.ask("_dns._tcp.kube-dns.dev.svc.cluster.local", RecordType::SRV));
  CHECK(zone.ask("_dns-tcp._tcp.kube-dns.dev.svc.cluster.local", RecordType::SRV).answers.size() ==
        1);
}

TEST_CASE("2.3.3: PTR of a ClusterIP names the Service") {
  Fixture zone;
  const Response response = zone.ask("10.0.96.10.in-addr.arpa", RecordType::PTR);
  CHECK(response.rcode == Rcode::NoError);
  REQUIRE(response.answers.size() == 1);
  CHECK(target(response.answers[0]) == "web.dev.svc.cluster.local");
  const Response unknown = zone.ask("99.0.96.10.in-addr.arpa", RecordType::PTR);
  CHECK(unknown.rcode == Rcode::NxDomain);
  REQUIRE(unknown.authority.size() == 1);
  CHECK(unknown.authority[0].name == "in-addr.arpa");
  CHECK(zone.ask("10.0.96.10.in-addr.arpa", RecordType::A).rcode == Rcode::NoError);
  CHECK(zone.ask("10.0.96.10.in-addr.arpa", RecordType::A).answers.empty());
}

TEST_CASE("2.4.1: a headless Service answers its ready endpoints; none is NXDOMAIN") {
  Fixture zone;
  const Response response = zone.ask("db.dev.svc.cluster.local", RecordType::A);
  CHECK(response.rcode == Rcode::NoError);
  REQUIRE(response.answers.size() == 2);
  CHECK(rdata(response.answers[0]) == std::vector<std::uint8_t>{10, 1, 0, 1});
  check_nxdomain(zone.ask("empty.dev.svc.cluster.local", RecordType::A));
  zone.endpoints["dev/db"].clear();
  check_nxdomain(zone.ask("db.dev.svc.cluster.local", RecordType::A));
}

TEST_CASE("2.4.1: <hostname>.<svc> of a headless endpoint (the dashed IP without a hostname)") {
  Fixture zone;
  const Response response = zone.ask("10-1-0-2.db.dev.svc.cluster.local", RecordType::A);
  REQUIRE(response.answers.size() == 1);
  CHECK(rdata(response.answers[0]) == std::vector<std::uint8_t>{10, 1, 0, 2});
  check_nxdomain(zone.ask("bogus.db.dev.svc.cluster.local", RecordType::A));
  check_nxdomain(zone.ask("10-96-0-10.web.dev.svc.cluster.local", RecordType::A));
  zone.endpoints["dev/db"][0].hostname = "db-0";
  CHECK(zone.ask("db-0.db.dev.svc.cluster.local", RecordType::A).answers.size() == 1);
}

TEST_CASE("2.4.2: headless SRV: one per ready endpoint, at its port, targeting its name") {
  Fixture zone;
  const Response response = zone.ask("_pg._tcp.db.dev.svc.cluster.local", RecordType::SRV);
  REQUIRE(response.answers.size() == 2);
  CHECK(srv_port(response.answers[0]) == 5432);
  CHECK(srv_port(response.answers[1]) == 5433);
  CHECK(srv_target(response.answers[0]) == "10-1-0-1.db.dev.svc.cluster.local");
  CHECK(response.additional.size() == 2);
}

TEST_CASE("2.4.3: PTR of a headless endpoint names the endpoint") {
  Fixture zone;
  const Response response = zone.ask("1.0.1.10.in-addr.arpa", RecordType::PTR);
  REQUIRE(response.answers.size() == 1);
  CHECK(target(response.answers[0]) == "10-1-0-1.db.dev.svc.cluster.local");
}

TEST_CASE("2.5: an ExternalName Service is a CNAME, for any type") {
  Fixture zone;
  for (const RecordType type : {RecordType::CNAME, RecordType::A, RecordType::AAAA}) {
    const Response response = zone.ask("ext.dev.svc.cluster.local", type);
    CHECK(response.rcode == Rcode::NoError);
    REQUIRE(response.answers.size() == 1);
    CHECK(response.answers[0].type == RecordType::CNAME);
    CHECK(target(response.answers[0]) == "www.example.com");
  }
  check_nxdomain(zone.ask("endpoint.ext.dev.svc.cluster.local", RecordType::CNAME));
}

TEST_CASE("2.6: <a-b-c-d>.<ns>.pod.<zone> A (pods insecure)") {
  Fixture zone;
  const Response response = zone.ask("10-1-0-9.dev.pod.cluster.local", RecordType::A);
  REQUIRE(response.answers.size() == 1);
  CHECK(rdata(response.answers[0]) == std::vector<std::uint8_t>{10, 1, 0, 9});
  check_nxdomain(zone.ask("10-1-0-9.nowhere.pod.cluster.local", RecordType::A));
  check_nxdomain(zone.ask("not-an-ip.dev.pod.cluster.local", RecordType::A));
}

TEST_CASE("CoreDNS: names that exist without the type asked are NODATA, others NXDOMAIN") {
  Fixture zone;
  check_nodata(zone.ask("svc.cluster.local", RecordType::A));
  check_nodata(zone.ask("pod.cluster.local", RecordType::A));
  check_nodata(zone.ask("dev.svc.cluster.local", RecordType::A));
  check_nodata(zone.ask("quiet.svc.cluster.local", RecordType::A));    // a v1 Namespace
  check_nodata(zone.ask("default.svc.cluster.local", RecordType::A));  // always there
  check_nodata(zone.ask("svc.cluster.local", RecordType::NS));
  check_nodata(zone.ask("web.dev.svc.cluster.local", RecordType::SOA));
  check_nxdomain(zone.ask("nons.svc.cluster.local", RecordType::A));
  check_nxdomain(zone.ask("nothing.dev.svc.cluster.local", RecordType::A));
  check_nxdomain(zone.ask("web.nons.svc.cluster.local", RecordType::A));
  check_nxdomain(zone.ask("foo.cluster.local", RecordType::NS));
  check_nxdomain(zone.ask("bogus.nothing.dev.svc.cluster.local", RecordType::A));
  check_nxdomain(zone.ask("a.b.c.web.dev.svc.cluster.local", RecordType::A));
}

TEST_CASE("the zone apex answers its SOA and NS") {
  Fixture zone;
  const Response soa = zone.ask("cluster.local", RecordType::SOA);
  REQUIRE(soa.answers.size() == 1);
  CHECK(soa.answers[0].type == RecordType::SOA);
  const Response ns = zone.ask("cluster.local", RecordType::NS);
  REQUIRE(ns.answers.size() == 1);
  CHECK(target(ns.answers[0]) == "ns.dns.cluster.local");
  check_nodata(zone.ask("cluster.local", RecordType::A));
}

TEST_CASE("names outside the zone and in-addr.arpa are REFUSED: no recursion") {
  Fixture zone;
  for (const char* name : {"example.com", "local", "xcluster.local", "", "ip6.arpa"}) {
    const Response response = zone.ask(name, RecordType::A);
    CHECK(response.rcode == Rcode::Refused);
    CHECK_FALSE(response.authoritative);
    CHECK(response.answers.empty());
    CHECK(response.authority.empty());
  }
  CHECK(zone.ask("web.dev.svc.cluster.local", RecordType::A, 3).rcode == Rcode::Refused);  // CH
}

TEST_CASE("another domain is served when configured") {
  Fixture zone;
  zone.settings.domain = "corp.internal";
  CHECK(zone.ask("web.dev.svc.corp.internal", RecordType::A).answers.size() == 1);
  CHECK(zone.ask("web.dev.svc.cluster.local", RecordType::A).rcode == Rcode::Refused);
}

TEST_CASE("answer_message: bytes in, bytes out; malformed input is FORMERR or dropped") {
  Fixture zone;
  const ZoneSource source{zone.snapshot,
                          [](const conf::Service&) { return std::vector<ZoneEndpoint>{}; }};
  const std::vector<std::uint8_t> header_only{0, 7, 1, 0, 0, 50, 0, 0, 0, 0, 0, 0};
  const auto formerr = answer_message(header_only, zone.settings, source, 0, 1232);
  REQUIRE(formerr);
  CHECK(formerr->size() == 12);
  CHECK(((*formerr)[3] & 0x0F) == 1);
  CHECK((*formerr)[1] == 7);
  CHECK_FALSE(answer_message(std::vector<std::uint8_t>(5, 0), zone.settings, source, 0, 1232));
}

}  // namespace svcproxy::dns

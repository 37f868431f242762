// libFuzzer harness for the cluster DNS server's path (dns/): parse_query on arbitrary
// bytes, then the whole answer_message over a small zone (a ClusterIP Service with named
// ports, a headless one with endpoints, an ExternalName), as UDP (the client's size) and
// as TCP. Checks the invariants a client relies on: a response is never larger than its
// limit, echoes the query's ID, has QR set and RA clear, and a message with a readable
// header that is a query is always answered.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <vector>

#include "dns/cluster_zone.hpp"
#include "dns/dns_message.hpp"
#include "fuzz/fuzz_check.hpp"

namespace {

using namespace svcproxy;

conf::ServicePort port(const char* name, int number) {
  conf::ServicePort out;
  out.name = name;
  out.port = number;
  return out;
}

conf::Snapshot make_snapshot() {
  conf::Snapshot snapshot;
  conf::Service web;
  web.name = "web";
  web.namespace_name = "dev";
  web.cluster_ip = "10.96.0.10";
  web.ports = {port("http", 80), port("", 8080)};
  conf::Service db = web;
  db.name = "db";
  db.cluster_ip.clear();
  db.headless = true;
  conf::Service external = web;
  external.name = "ext";
  external.type = conf::ServiceType::ExternalName;
  external.external_name = "www.example.com";
  snapshot.services = conf::ServiceList({web, db, external});
  return snapshot;
}

std::vector<dns::ZoneEndpoint> endpoints(const conf::Service& service) {
  if (!service.headless) return {};
  std::vector<dns::ZoneEndpoint> out;
  for (int i = 1; i <= 40; ++i)
    out.push_back({"10.1.0." + std::to_string(i), i == 1 ? "db-0" : "", {{"http", 8000 + i}}});
  return out;
}

void check_response(std::span<const std::uint8_t> query, const std::vector<std::uint8_t>& out,
                    std::size_t limit) {
  FUZZ_CHECK(out.size() >= dns::kHeaderSize);
  FUZZ_CHECK(out.size() <= limit);
  FUZZ_CHECK(out[0] == query[0] && out[1] == query[1]);
  FUZZ_CHECK((out[2] & 0x80) != 0);  // QR
  FUZZ_CHECK((out[3] & 0x80) == 0);  // RA: never a recursive resolver
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const conf::Snapshot snapshot = make_snapshot();
  static const dns::ZoneSource source{snapshot, endpoints};
  static const dns::ZoneSettings settings;
  const std::span<const std::uint8_t> message(data, size);

  const dns::ParsedQuery parsed = dns::parse_query(message);
  if (parsed.status == dns::ParsedQuery::Status::Ok) FUZZ_CHECK(parsed.question.has_value());
  if (parsed.question) FUZZ_CHECK(parsed.question->wire_name.size() <= dns::kMaxNameLength);

  const auto udp = dns::answer_message(message, settings, source, 0, 1232);
  const auto tcp = dns::answer_message(message, settings, source, 65535, 1232);
  FUZZ_CHECK(udp.has_value() == tcp.has_value());
  FUZZ_CHECK(udp.has_value() == (parsed.status != dns::ParsedQuery::Status::Drop));
  if (udp) check_response(message, *udp, dns::udp_response_limit(parsed, 1232));
  if (tcp) check_response(message, *tcp, 65535);
  return 0;
}

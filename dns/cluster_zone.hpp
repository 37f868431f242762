// The answers of the cluster zone, per the Kubernetes DNS specification (kubernetes/dns
// docs/specification.md, schema 1.1.0 as CoreDNS serves it) and with CoreDNS's kubernetes
// plugin's NXDOMAIN/NODATA choices: <svc>.<ns>.svc.<zone> A/AAAA/CNAME/SRV,
// _<port>._<proto>.<svc>.<ns>.svc.<zone> SRV, <hostname>.<svc>.<ns>.svc.<zone> of headless
// endpoints, <a-b-c-d>.<ns>.pod.<zone> (pods insecure), dns-version.<zone> TXT, PTR under
// in-addr.arpa; REFUSED for every other name. Pure: tests and the fuzzer need no sockets.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "conf/model.hpp"
#include "dns/dns_message.hpp"

namespace svcproxy::dns {

// One ready endpoint of a headless Service.
struct ZoneEndpoint {
  std::string ip;
  std::string hostname;  // empty: the dashed IP (10-0-0-1) names it, as in CoreDNS
  std::vector<std::pair<std::string, int>> ports;  // Service port name -> the endpoint's port

  friend bool operator==(const ZoneEndpoint&, const ZoneEndpoint&) = default;
};

// What the zone is built from, read on every question so a change shows on the next one.
struct ZoneSource {
  const conf::Snapshot& snapshot;
  // The ready endpoints of a headless Service (every one when it publishes not-ready
  // addresses), one per IP.
  std::function<std::vector<ZoneEndpoint>(const conf::Service&)> endpoints;
};

struct ZoneSettings {
  std::string domain = "cluster.local";  // lower case, no trailing dot
  std::uint32_t ttl = 5;
  std::uint32_t serial = 1;  // the SOA's: when the configuration last changed
};

// The schema version dns-version.<zone> answers (kubernetes/dns specification 2.2).
inline constexpr const char* kSchemaVersion = "1.1.0";

Response answer_question(const Question& question, const ZoneSettings& settings,
                         const ZoneSource& source);

// A whole query, parsed or not: the response bytes, or nothing for a message that gets
// no answer (not even a header, or a response). `max_size` is the TCP limit (65535) or 0
// for UDP, where the client's EDNS size (or 512) bounds it.
std::optional<std::vector<std::uint8_t>> answer_message(std::span<const std::uint8_t> message,
                                                        const ZoneSettings& settings,
                                                        const ZoneSource& source,
                                                        std::size_t max_size,
                                                        std::uint16_t our_udp_size);

}  // namespace svcproxy::dns

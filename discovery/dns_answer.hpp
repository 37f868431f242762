// What one DNS lookup of a name returned, as the pure rules in dns_watch.hpp consume it.
// Plain values: produced by a resolver (c-ares in production, literals in tests).
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace svcproxy::discovery {

// The outcome classes we count and act on. ServFail covers every answer that says the
// resolver could not decide (SERVFAIL, REFUSED, a malformed reply); Timeout covers no
// answer at all (timeout, connection refused).
enum class DnsResult { Success, NxDomain, ServFail, Timeout, Empty };
inline constexpr int kDnsResultCount = 5;

const char* to_string(DnsResult result);  // "success", "nxdomain", "servfail", ...

struct DnsAddress {
  std::string ip;  // textual, as inet_ntop writes it
  std::chrono::seconds ttl{0};
};

// The answer for one record type (A or AAAA). `addresses` is non-empty iff Success.
struct FamilyAnswer {
  DnsResult result = DnsResult::Timeout;
  std::vector<DnsAddress> addresses;
};

struct DnsLookup {
  FamilyAnswer ipv4;  // A
  FamilyAnswer ipv6;  // AAAA
  // The lookup was abandoned (resolver shut down or re-created): no answer to act on.
  bool cancelled = false;
};

// One class for the whole lookup, for counters and logs: any family that succeeded makes it
// a success; otherwise the most transient failure wins (timeout, then servfail), then
// nxdomain, then empty.
DnsResult classify(const DnsLookup& lookup);

}  // namespace svcproxy::discovery

#include "discovery/dns_answer.hpp"

namespace svcproxy::discovery {

const char* to_string(DnsResult result) {
  switch (result) {
    case DnsResult::Success:
      return "success";
    case DnsResult::NxDomain:
      return "nxdomain";
    case DnsResult::ServFail:
      return "servfail";
    case DnsResult::Timeout:
      return "timeout";
    case DnsResult::Empty:
      return "empty";
  }
  return "unknown";
}

DnsResult classify(const DnsLookup& lookup) {
  const DnsResult a = lookup.ipv4.result;
  const DnsResult b = lookup.ipv6.result;
  for (const DnsResult result :
       {DnsResult::Success, DnsResult::Timeout, DnsResult::ServFail, DnsResult::NxDomain})
    if (a == result || b == result) return result;
  return DnsResult::Empty;
}

}  // namespace svcproxy::discovery

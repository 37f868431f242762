// The rules for one watched DNS name, pure and clock-free so they are unit-tested without a
// resolver: which addresses to keep after a lookup, and when to look again.
//
// - A family (A or AAAA) that answered replaces its addresses; one that failed transiently
//   (SERVFAIL, timeout) keeps its last good addresses; one that says "no such name" or "no
//   records" contributes none.
// - When no family answered and none failed transiently (NXDOMAIN or an empty answer for
//   both), the set is emptied only when that happens on two lookups in a row; a transient
//   failure in between neither confirms nor breaks the streak.
// - The next lookup is after `refresh`, or after the shortest TTL of the fresh answer when
//   that is shorter, never sooner than 1 s.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "conf/model.hpp"
#include "discovery/dns_answer.hpp"

namespace svcproxy::discovery {

inline constexpr conf::Duration kDnsRefreshFloor = std::chrono::seconds(1);

class DnsWatchState {
 public:
  struct Outcome {
    DnsResult result = DnsResult::Success;  // classify(lookup)
    bool changed = false;                   // addresses() differs from before
    conf::Duration next_lookup{};
  };

  Outcome on_lookup(const DnsLookup& lookup, conf::Duration refresh);

  // Current addresses, sorted and unique.
  const std::vector<std::string>& addresses() const { return addresses_; }
  // True once any lookup succeeded (a name that never resolved is not "lost").
  bool resolved_once() const { return resolved_once_; }

 private:
  std::vector<std::string> addresses_;
  int negative_streak_ = 0;
  bool resolved_once_ = false;
};

// The pods a DNS-backed Deployment has for these addresses: one per address, named
// "<deployment>-<ip with '.' and ':' replaced by '-'>", with the template's labels and
// containers, in the Deployment's namespace.
std::vector<conf::Pod> dns_pods(const conf::Deployment& deployment,
                                const std::vector<std::string>& addresses);

// "deployment default/web: 2/3 pods resolved" (kubectl get deploy's READY column).
std::string resolved_summary(const conf::Deployment& deployment, std::size_t resolved);

}  // namespace svcproxy::discovery

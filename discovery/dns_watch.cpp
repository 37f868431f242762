#include "discovery/dns_watch.hpp"

#include <algorithm>

namespace svcproxy::discovery {
namespace {

bool is_transient(DnsResult result) {
  return result == DnsResult::ServFail || result == DnsResult::Timeout;
}

bool is_ipv6(const std::string& ip) {
  return ip.find(':') != std::string::npos;
}

// What one family contributes to the new set: its fresh answer, or on a transient failure
// the addresses of that family we already had.
void contribute(const FamilyAnswer& answer, bool ipv6, const std::vector<std::string>& previous,
                std::vector<std::string>& out) {
  if (answer.result == DnsResult::Success) {
    for (const auto& address : answer.addresses)
      out.push_back(address.ip);
  } else if (is_transient(answer.result)) {
    for (const auto& ip : previous)
      if (is_ipv6(ip) == ipv6) out.push_back(ip);
  }
}

conf::Duration shortest_ttl(const DnsLookup& lookup, conf::Duration refresh) {
  conf::Duration next = refresh;
  for (const FamilyAnswer* answer : {&lookup.ipv4, &lookup.ipv6})
    for (const auto& address : answer->addresses)
      next = std::min<conf::Duration>(next, address.ttl);
  return std::max(next, kDnsRefreshFloor);
}

}  // namespace

DnsWatchState::Outcome DnsWatchState::on_lookup(const DnsLookup& lookup, conf::Duration refresh) {
  Outcome outcome;
  outcome.result = classify(lookup);
  outcome.next_lookup = std::max(refresh, kDnsRefreshFloor);
  std::vector<std::string> next;
  if (outcome.result == DnsResult::Success) {
    contribute(lookup.ipv4, false, addresses_, next);
    contribute(lookup.ipv6, true, addresses_, next);
    negative_streak_ = 0;
    resolved_once_ = true;
    outcome.next_lookup = shortest_ttl(lookup, outcome.next_lookup);
  } else if (is_transient(outcome.result)) {
    return outcome;  // keep the last good answer
  } else if (++negative_streak_ < 2) {
    return outcome;  // one NXDOMAIN or empty answer may be a glitch; wait for a second
  }
  std::sort(next.begin(), next.end());
  next.erase(std::unique(next.begin(), next.end()), next.end());
  outcome.changed = next != addresses_;
  addresses_ = std::move(next);
  return outcome;
}

std::vector<conf::Pod> dns_pods(const conf::Deployment& deployment,
                                const std::vector<std::string>& addresses) {
  std::vector<conf::Pod> pods;
  pods.reserve(addresses.size());
  for (const auto& ip : addresses) {
    conf::Pod pod;
    pod.namespace_name = deployment.namespace_name;
    pod.name = deployment.name + "-" + ip;
    std::replace_if(
        pod.name.begin() + deployment.name.size() + 1, pod.name.end(),
        [](char c) { return c == '.' || c == ':'; }, '-');
    pod.labels = deployment.template_labels;
    pod.pod_ip = ip;
    pod.containers = deployment.containers;
    pod.owner_deployment = deployment.name;
    pod.location = deployment.location;
    pods.push_back(std::move(pod));
  }
  return pods;
}

std::string resolved_summary(const conf::Deployment& deployment, std::size_t resolved) {
  return "deployment " + deployment.key() + ": " + std::to_string(resolved) + "/" +
         std::to_string(deployment.replicas) + " pods resolved";
}

}  // namespace svcproxy::discovery

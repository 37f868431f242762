// Counters of control-plane events: reloads and DNS resolutions. Control thread only
// (reload, the DNS resolver and the admin scrape all run on the control io_context), so
// plain integers.
#pragma once

#include <array>
#include <cstdint>

#include "cluster/cluster_stats.hpp"
#include "discovery/dns_answer.hpp"

namespace svcproxy::server {

struct ControlStats {
  std::uint64_t reloads_succeeded = 0;
  std::uint64_t reloads_failed = 0;
  double last_reload_success_unix_seconds = 0;  // the initial load counts as a success
  // DnsDiscovery's lookup counts by discovery::DnsResult; null until discovery starts.
  const std::array<std::uint64_t, discovery::kDnsResultCount>* dns_results = nullptr;
  // Cluster mode's counters; null in file mode (no cluster families are exported then).
  const cluster::ClusterStats* cluster = nullptr;
};

double unix_now_seconds();

void record_config_load_success(ControlStats& stats);  // start-up: timestamp only
void record_config_reload(ControlStats& stats, bool success);

}  // namespace svcproxy::server

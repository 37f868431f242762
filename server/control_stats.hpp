// Counters of control-plane events: reloads and DNS resolutions. Control thread only
// (reload, the DNS resolver and the admin scrape all run on the control io_context), so
// plain integers.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace svcproxy::server {

struct ControlStats {
  std::uint64_t reloads_succeeded = 0;
  std::uint64_t reloads_failed = 0;
  double last_reload_success_unix_seconds = 0;           // the initial load counts as a success
  std::map<std::string, std::uint64_t> dns_resolutions;  // by result ("success", "nxdomain"...)
};

double unix_now_seconds();

void record_config_load_success(ControlStats& stats);  // start-up: timestamp only
void record_config_reload(ControlStats& stats, bool success);
void record_dns_resolution(ControlStats& stats, const std::string& result);

}  // namespace svcproxy::server

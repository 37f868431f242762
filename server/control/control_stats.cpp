#include "server/control/control_stats.hpp"

#include <chrono>

namespace svcproxy::server {

double unix_now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void record_config_load_success(ControlStats& stats) {
  stats.last_reload_success_unix_seconds = unix_now_seconds();
}

void record_config_reload(ControlStats& stats, bool success) {
  if (!success) {
    ++stats.reloads_failed;
    return;
  }
  ++stats.reloads_succeeded;
  record_config_load_success(stats);
}

}  // namespace svcproxy::server

// What cluster mode counts for /metrics and /healthz. Control thread only, so plain values.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace svcproxy::cluster {

enum class RelistReason { Initial, Compacted, Resync, Reconnect };
inline constexpr std::size_t kRelistReasons = 4;
const char* to_string(RelistReason reason);

struct ClusterStats {
  bool connected = false;
  double disconnected_since_unix_seconds = 0;  // when `connected` last went false (or start)
  std::string last_error;
  double last_sync_unix_seconds = 0;  // the last list or watch event applied
  std::uint64_t watch_events = 0;
  std::array<std::uint64_t, kRelistReasons> relists{};
  std::uint64_t lease_renewals = 0;
  std::uint64_t lease_renewal_failures = 0;
};

}  // namespace svcproxy::cluster

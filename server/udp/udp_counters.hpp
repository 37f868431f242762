// What the UDP relays did, for /metrics; light, so the metrics code needs no Asio.
#pragma once

#include <atomic>
#include <cstdint>

namespace svcproxy::server {

// What UDP relays did: process-wide for /metrics (udp_counters()), or a test's own.
// Atomic: every worker's relays add to the same counters.
struct UdpCounters {
  using Counter = std::atomic<std::uint64_t>;
  std::atomic<std::int64_t> sessions{0};  // open now
  Counter sessions_opened{0};
  Counter sessions_expired{0};  // idle past idle_timeout
  Counter sessions_evicted{0};  // the least recently active one, to make room at max_sessions
  Counter sessions_moved{0};    // their pod stopped serving: the next datagram picked another
  Counter datagrams_to_pods{0};
  Counter datagrams_to_clients{0};
  Counter bytes_to_pods{0};
  Counter bytes_to_clients{0};
  Counter dropped_no_endpoint{0};    // no pod may take it: dropped, as kube-proxy does
  Counter dropped_send_failed{0};    // a socket buffer was full, or the pod's port refused
  Counter dropped_session_limit{0};  // maxUdpSessions reached by other listeners' sessions
};

UdpCounters& udp_counters();

}  // namespace svcproxy::server

// Sums every worker's slot of a service port's counters into plain totals. Runs on the
// control thread while workers keep counting: each value read is a relaxed atomic load, so
// a scrape sees each counter at some recent value, never a torn one.
#pragma once

#include <array>
#include <cstdint>
#include <map>

#include "server/metrics/metrics.hpp"

namespace svcproxy::server {

struct ServiceTotals {
  std::uint64_t connections_opened = 0;
  std::uint64_t connections_closed = 0;
  std::uint64_t bytes_received = 0;
  std::uint64_t bytes_sent = 0;
  std::array<std::uint64_t, kPodFaults> upstream_connect_failures{};  // by SocketFault
  std::uint64_t upstream_retries = 0;
  std::array<std::uint64_t, kRejectReasons> rejected_requests{};  // by RejectReason
  std::map<int, std::uint64_t> http_requests;                     // by status code; 0 = "other"
  // Cumulative, as Prometheus wants them; the last is +Inf (= the request count).
  std::array<std::uint64_t, kDurationBuckets.size() + 1> duration_buckets{};
  double duration_sum_seconds = 0;

  std::int64_t connections_active() const {
    return static_cast<std::int64_t>(connections_opened - connections_closed);
  }
};

ServiceTotals aggregate(const ServiceMetrics& metrics);

}  // namespace svcproxy::server

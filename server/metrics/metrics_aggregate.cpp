#include "server/metrics/metrics_aggregate.hpp"

namespace svcproxy::server {
namespace {

void add_traffic(const ServiceStats& stats, ServiceTotals& totals) {
  // Closed before opened: a connection counted as closed here was certainly opened by the
  // time `opened` is read, so active never goes negative.
  totals.connections_closed += stats.connections_closed.value();
  totals.connections_opened += stats.connections_opened.value();
  totals.bytes_received += stats.bytes_received.value();
  totals.bytes_sent += stats.bytes_sent.value();
  for (std::size_t fault = 0; fault < kPodFaults; ++fault)
    totals.upstream_connect_failures[fault] += stats.upstream_connect_failures[fault].value();
  totals.upstream_retries += stats.upstream_retries.value();
  for (std::size_t reason = 0; reason < kRejectReasons; ++reason)
    totals.rejected_requests[reason] += stats.rejected_requests[reason].value();
}

void add_http(const ServiceStats& stats, ServiceTotals& totals) {
  stats.http_requests.for_each(
      [&](int code, std::uint64_t count) { totals.http_requests[code] += count; });
  for (std::size_t i = 0; i < totals.duration_buckets.size(); ++i)
    totals.duration_buckets[i] += stats.http_durations.buckets[i].value();
  totals.duration_sum_seconds += static_cast<double>(stats.http_durations.sum_micros.value()) / 1e6;
}

}  // namespace

ServiceTotals aggregate(const ServiceMetrics& metrics) {
  ServiceTotals totals;
  for (std::size_t w = 0; w < metrics.workers(); ++w) {
    add_traffic(metrics.worker(w), totals);
    add_http(metrics.worker(w), totals);
  }
  for (std::size_t i = 1; i < totals.duration_buckets.size(); ++i)
    totals.duration_buckets[i] += totals.duration_buckets[i - 1];
  return totals;
}

}  // namespace svcproxy::server

#include "server/metrics/metrics.hpp"

#include <algorithm>

namespace svcproxy::server {

void StatusCounts::add(int code) {
  for (auto& slot : slots_) {
    // Only this thread writes codes, so a relaxed load sees its own earlier claims.
    const int claimed = slot.code.load(std::memory_order_relaxed);
    if (claimed == code) {
      slot.count.add();
      return;
    }
    if (claimed == 0) {
      slot.count.add();
      slot.code.store(code, std::memory_order_release);
      return;
    }
  }
  overflow_.add();
}

void DurationCounts::add(std::chrono::steady_clock::duration duration) {
  const double seconds = std::chrono::duration<double>(duration).count();
  const auto bound = std::lower_bound(kDurationBuckets.begin(), kDurationBuckets.end(), seconds);
  buckets[static_cast<std::size_t>(bound - kDurationBuckets.begin())].add();
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(duration).count();
  sum_micros.add(static_cast<std::uint64_t>(std::max<std::int64_t>(micros, 0)));
}

void record_connection_opened(ServiceStats& stats) {
  stats.connections_opened.add();
}

void record_connection_closed(ServiceStats& stats) {
  stats.connections_closed.add();
}

void record_bytes(ServiceStats& stats, std::uint64_t received, std::uint64_t sent) {
  stats.bytes_received.add(received);
  stats.bytes_sent.add(sent);
}

void record_upstream_connect_failure(ServiceStats& stats, SocketFault fault) {
  const auto index = static_cast<std::size_t>(fault);
  if (index < kPodFaults) stats.upstream_connect_failures[index].add();
}

void record_upstream_retry(ServiceStats& stats) {
  stats.upstream_retries.add();
}

void record_rejected_request(ServiceStats& stats, RejectReason reason) {
  stats.rejected_requests[static_cast<std::size_t>(reason)].add();
}

void record_http_request(ServiceStats& stats, int status_code,
                         std::chrono::steady_clock::duration duration) {
  stats.http_requests.add(status_code);
  stats.http_durations.add(duration);
}

ServiceMetrics::ServiceMetrics(ServiceLabels labels, std::size_t workers)
    : labels_(std::move(labels)),
      workers_(workers),
      per_worker_(std::make_unique<ServiceStats[]>(workers)) {}

}  // namespace svcproxy::server

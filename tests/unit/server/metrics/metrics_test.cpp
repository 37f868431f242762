// Per-worker counters and their aggregation at scrape time.
#include "server/metrics/metrics.hpp"

#include <doctest/doctest.h>

#include <thread>

#include "server/metrics/metrics_aggregate.hpp"
#include "server/metrics/metrics_collector.hpp"
#include "server/metrics/metrics_families.hpp"

using namespace svcproxy;
using namespace svcproxy::server;
using std::chrono::milliseconds;

TEST_CASE("aggregation across two workers gives exact sums") {
  ServiceMetrics metrics({"default", "web", "80"}, 2);
  for (int i = 0; i < 3; ++i)
    record_connection_opened(metrics.worker(0));
  for (int i = 0; i < 4; ++i)
    record_connection_opened(metrics.worker(1));
  record_connection_closed(metrics.worker(0));
  record_bytes(metrics.worker(0), 100, 1000);
  record_bytes(metrics.worker(1), 5, 50);
  record_upstream_connect_failure(metrics.worker(1), SocketFault::Refused);
  record_upstream_connect_failure(metrics.worker(0), SocketFault::Refused);
  record_upstream_connect_failure(metrics.worker(1), SocketFault::Timeout);
  record_upstream_connect_failure(metrics.worker(1), SocketFault::FileDescriptors);  // not a pod's
  record_upstream_retry(metrics.worker(0));
  record_http_request(metrics.worker(0), 200, milliseconds(3));
  record_http_request(metrics.worker(1), 200, milliseconds(300));
  record_http_request(metrics.worker(1), 503, milliseconds(20000));

  const ServiceTotals totals = aggregate(metrics);
  CHECK(totals.connections_opened == 7);
  CHECK(totals.connections_active() == 6);
  CHECK(totals.bytes_received == 105);
  CHECK(totals.bytes_sent == 1050);
  CHECK(totals.upstream_connect_failures[static_cast<std::size_t>(SocketFault::Refused)] == 2);
  CHECK(totals.upstream_connect_failures[static_cast<std::size_t>(SocketFault::Timeout)] == 1);
  CHECK(totals.upstream_connect_failures[static_cast<std::size_t>(SocketFault::Reset)] == 0);
  CHECK(totals.upstream_retries == 1);
  CHECK(totals.http_requests == std::map<int, std::uint64_t>{{200, 2}, {503, 1}});
  CHECK(totals.duration_buckets.front() == 1);  // <= 5ms
  CHECK(totals.duration_buckets[6] == 2);       // <= 0.5s, cumulative
  CHECK(totals.duration_buckets.back() == 3);   // +Inf = count
  CHECK(totals.duration_sum_seconds == doctest::Approx(20.303));
}

TEST_CASE("concurrent single-writer counting loses nothing") {
  ServiceMetrics metrics({"default", "web", "80"}, 2);
  constexpr int kPerWorker = 200000;
  auto count = [&](std::size_t worker) {
    for (int i = 0; i < kPerWorker; ++i)
      record_connection_opened(metrics.worker(worker));
  };
  std::thread first(count, 0), second(count, 1);
  for (int i = 0; i < 100; ++i)
    CHECK(aggregate(metrics).connections_opened <= 2u * kPerWorker);  // a scrape mid-count
  first.join();
  second.join();
  CHECK(aggregate(metrics).connections_opened == 2u * kPerWorker);
}

TEST_CASE("more distinct status codes than slots are counted as other") {
  ServiceMetrics metrics({"default", "web", "80"}, 1);
  for (int code = 200; code < 200 + static_cast<int>(StatusCounts::kSlots) + 2; ++code)
    record_http_request(metrics.worker(0), code, milliseconds(1));
  const auto totals = aggregate(metrics);
  CHECK(totals.http_requests.size() == StatusCounts::kSlots + 1);
  CHECK(totals.http_requests.at(0) == 2);
}

TEST_CASE("exposition names and labels the service families") {
  ServiceMetricsMap services;
  services["default/web:80"] =
      std::make_shared<ServiceMetrics>(ServiceLabels{"default", "web", "80"}, 2);
  record_connection_opened(services["default/web:80"]->worker(1));
  ControlStats control;
  record_config_reload(control, false);
  const discovery::BackendMapPtr backends = std::make_shared<const discovery::BackendMap>();
  const ServiceMetricsMapPtr shared = std::make_shared<const ServiceMetricsMap>(services);
  const std::string text = serialize_metrics(MetricsCollector(shared, backends, control));
  CHECK(text.find(
            "svcproxy_connections_total{namespace=\"default\",service=\"web\",port=\"80\"} 1") !=
        std::string::npos);
  CHECK(text.find("svcproxy_config_reloads_total{result=\"failure\"} 1") != std::string::npos);
  CHECK(text.find("# TYPE process_open_fds gauge") != std::string::npos);
}

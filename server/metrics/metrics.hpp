// Traffic counters per service port, kept per worker so counting costs the data path a
// plain add: each worker writes only its own slot (single writer), and the control thread
// sums the slots when /metrics is scraped. Relaxed atomics make that concurrent read
// well-defined without a locked instruction on the write side.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "server/http_message/http_errors.hpp"
#include "server/upstream/socket_faults.hpp"

namespace svcproxy::server {

// A counter written by one thread only (load + store, no read-modify-write bus lock) and
// read by any.
class LocalCounter {
 public:
  void add(std::uint64_t n = 1) {
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

// HTTP responses by status code. A slot is claimed by publishing its code (release) after
// its count is set, so a reader that sees the code (acquire) sees a valid count.
class StatusCounts {
 public:
  static constexpr std::size_t kSlots = 16;
  void add(int code);
  // Calls visit(code, count) for every code seen; code 0 is "other" (more than kSlots codes).
  template <typename Visit>
  void for_each(Visit&& visit) const {
    for (const auto& slot : slots_) {
      const int code = slot.code.load(std::memory_order_acquire);
      if (code != 0) visit(code, slot.count.value());
    }
    if (overflow_.value() != 0) visit(0, overflow_.value());
  }

 private:
  struct Slot {
    std::atomic<int> code{0};
    LocalCounter count;
  };
  std::array<Slot, kSlots> slots_;
  LocalCounter overflow_;
};

// Upper bounds (seconds) of svcproxy_http_request_duration_seconds, Prometheus' defaults.
inline constexpr std::array<double, 11> kDurationBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                            0.5,   1,    2.5,   5,    10};

// Non-cumulative bucket counts (the last is +Inf) and the sum in microseconds.
struct DurationCounts {
  std::array<LocalCounter, kDurationBuckets.size() + 1> buckets;
  LocalCounter sum_micros;

  void add(std::chrono::steady_clock::duration duration);
};

// One worker's counters for one service port. Cache-line aligned so two workers' slots
// never share a line.
struct alignas(64) ServiceStats {
  LocalCounter connections_opened;
  LocalCounter connections_closed;                                 // active = opened - closed
  LocalCounter bytes_received;                                     // from clients
  LocalCounter bytes_sent;                                         // to clients
  std::array<LocalCounter, kPodFaults> upstream_connect_failures;  // by SocketFault
  LocalCounter upstream_retries;
  std::array<LocalCounter, kRejectReasons> rejected_requests;  // by RejectReason
  StatusCounts http_requests;
  DurationCounts http_durations;
};

// The recording API, called on the worker thread that owns `stats`.
void record_connection_opened(ServiceStats& stats);
void record_connection_closed(ServiceStats& stats);
void record_bytes(ServiceStats& stats, std::uint64_t received, std::uint64_t sent);
void record_upstream_connect_failure(ServiceStats& stats, SocketFault fault);  // a pod fault
void record_upstream_retry(ServiceStats& stats);
void record_rejected_request(ServiceStats& stats, RejectReason reason);
void record_http_request(ServiceStats& stats, int status_code,
                         std::chrono::steady_clock::duration duration);

struct ServiceLabels {
  std::string namespace_name;
  std::string service;
  std::string port;  // the service port number
};

// One service port's counters: one ServiceStats per worker.
class ServiceMetrics {
 public:
  ServiceMetrics(ServiceLabels labels, std::size_t workers);

  const ServiceLabels& labels() const { return labels_; }
  std::size_t workers() const { return workers_; }
  ServiceStats& worker(std::size_t index) { return per_worker_[index]; }
  const ServiceStats& worker(std::size_t index) const { return per_worker_[index]; }

 private:
  ServiceLabels labels_;
  std::size_t workers_;
  std::unique_ptr<ServiceStats[]> per_worker_;
};

using ServiceMetricsPtr = std::shared_ptr<ServiceMetrics>;
using ServiceMetricsMap = std::map<std::string, ServiceMetricsPtr>;     // by service port key
using ServiceMetricsMapPtr = std::shared_ptr<const ServiceMetricsMap>;  // shared, as BackendMapPtr

// What a session holds: its worker's slot of its service port's counters. Sharing
// ownership keeps the counters alive when a reload removes the service mid-connection.
class StatsHandle {
 public:
  StatsHandle() = default;
  StatsHandle(ServiceMetricsPtr metrics, std::size_t worker)
      : metrics_(std::move(metrics)), stats_(metrics_ ? &metrics_->worker(worker) : nullptr) {}

  explicit operator bool() const { return stats_ != nullptr; }
  ServiceStats& operator*() const { return *stats_; }
  ServiceStats* get() const { return stats_; }

 private:
  ServiceMetricsPtr metrics_;
  ServiceStats* stats_ = nullptr;
};

}  // namespace svcproxy::server

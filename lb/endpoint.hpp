// A backend endpoint (a pod's IP and target port) and its live state. Identity is
// immutable; the state is atomics written by the control thread (probes, outlier
// detection) and every worker (connection counts), read by every picker.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "conf/model.hpp"

namespace svcproxy::lb {

using Clock = std::chrono::steady_clock;

struct EndpointAddress {
  std::string pod_namespace;
  std::string pod_name;
  std::string ip;
  int port = 0;
  std::string node_name;
  // The pod's readinessProbe with a named port already resolved to a number.
  std::optional<conf::Probe> readiness_probe;
  // The zone of the pod's node (conf::zone_of_node; EndpointSlice endpoints[].zone); empty:
  // unknown. An initializer of its own, so the addresses written without it still compile
  // warning-free.
  std::string zone = std::string();

  std::string key() const { return ip + ":" + std::to_string(port); }
  // "namespace/name"; just the name for a node an edge instance forwards to.
  std::string pod_key() const {
    return pod_namespace.empty() ? pod_name : pod_namespace + "/" + pod_name;
  }
  friend bool operator==(const EndpointAddress& a, const EndpointAddress& b) {
    return a.pod_namespace == b.pod_namespace && a.pod_name == b.pod_name && a.ip == b.ip &&
           a.port == b.port && a.node_name == b.node_name && a.zone == b.zone;
  }
};

// Passive-health counters of one endpoint, kept here rather than in a Backend so they
// survive a Backend being replaced. Written by every worker through OutlierDetector.
struct OutlierCounters {
  std::atomic<int> consecutive_failures{0};  // connect failures and resets in a row
  std::atomic<int> consecutive_5xx{0};       // 5xx answers in a row
  std::atomic<int> ejections{0};             // ejections so far; decays, see OutlierDetector
};

class Endpoint {
 public:
  explicit Endpoint(EndpointAddress address)
      : address_(std::move(address)), ready_(!address_.readiness_probe) {}
  Endpoint(const Endpoint&) = delete;
  Endpoint& operator=(const Endpoint&) = delete;

  const EndpointAddress& address() const { return address_; }

  // Readiness from the probe; a pod without a probe is ready from the start.
  bool ready() const { return ready_.load(std::memory_order_relaxed); }
  void set_ready(bool ready) { ready_.store(ready, std::memory_order_relaxed); }

  // Removed from the configuration or DNS: no new traffic, in-flight work finishes.
  bool terminating() const { return terminating_since_.load(std::memory_order_relaxed) != kNever; }
  // Marks the endpoint terminating from `now` on; the first call's time is kept.
  void set_terminating(Clock::time_point now = Clock::now()) {
    Clock::rep expected = kNever;
    terminating_since_.compare_exchange_strong(expected, now.time_since_epoch().count(),
                                               std::memory_order_relaxed);
  }
  Clock::time_point terminating_since() const {
    return Clock::time_point(Clock::duration(terminating_since_.load(std::memory_order_relaxed)));
  }

  // Passive outlier ejection: excluded until the given time.
  bool ejected(Clock::time_point now) const {
    return now.time_since_epoch().count() < ejected_until_.load(std::memory_order_relaxed);
  }
  void eject_until(Clock::time_point until) {
    ejected_until_.store(until.time_since_epoch().count(), std::memory_order_relaxed);
  }
  void clear_ejection() { ejected_until_.store(0, std::memory_order_relaxed); }
  // The end of the latest ejection (in the past once it is over); epoch if never ejected.
  Clock::time_point ejected_until() const {
    return Clock::time_point(Clock::duration(ejected_until_.load(std::memory_order_relaxed)));
  }
  OutlierCounters& outlier_counters() { return outlier_counters_; }

  // Open L4 connections plus in-flight L7 requests, across all workers.
  int active() const { return active_.load(std::memory_order_relaxed); }
  void add_active() { active_.fetch_add(1, std::memory_order_relaxed); }
  void remove_active() { active_.fetch_sub(1, std::memory_order_relaxed); }

 private:
  const EndpointAddress address_;
  std::atomic<bool> ready_;
  static constexpr Clock::rep kNever = std::numeric_limits<Clock::rep>::min();
  std::atomic<Clock::rep> terminating_since_{kNever};
  std::atomic<Clock::rep> ejected_until_{0};
  std::atomic<int> active_{0};
  OutlierCounters outlier_counters_;
};

using EndpointPtr = std::shared_ptr<Endpoint>;

// Holds an endpoint's active count for the lifetime of a connection or request.
class ActiveGuard {
 public:
  ActiveGuard() = default;
  explicit ActiveGuard(EndpointPtr endpoint) : endpoint_(std::move(endpoint)) {
    if (endpoint_) endpoint_->add_active();
  }
  ActiveGuard(ActiveGuard&& other) noexcept : endpoint_(std::move(other.endpoint_)) {}
  ActiveGuard& operator=(ActiveGuard&& other) noexcept {
    if (this != &other) {
      release();
      endpoint_ = std::move(other.endpoint_);
    }
    return *this;
  }
  ~ActiveGuard() { release(); }

  const EndpointPtr& endpoint() const { return endpoint_; }
  void release() {
    if (endpoint_) endpoint_->remove_active();
    endpoint_.reset();
  }

 private:
  EndpointPtr endpoint_;
};

}  // namespace svcproxy::lb

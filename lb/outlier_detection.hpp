// Passive outlier ejection: the data path reports how each connection or request went,
// and an endpoint that fails `consecutive_failures` times in a row (connect failures,
// resets) or answers `consecutive_5xx` 5xx in a row is ejected: no new traffic until
// base_ejection_time x 2^(its earlier ejections), capped at max_ejection_time. Never more
// than max_ejection_percent of a Backend's endpoints are ejected at once (rounded down, so
// a 1-endpoint service is never ejected and a 3-endpoint one loses at most one).
//
// Decay: an endpoint's ejection count returns to 0 when it reports a success at least
// max_ejection_time after its last ejection ended, so a pod that misbehaved once long ago
// starts again from base_ejection_time.
//
// Thread-safe. Counters are atomics on the Endpoint; a success costs two relaxed loads
// and no write when the counters are already zero (the common case, on every worker).
// The ejection decision itself takes a mutex per Backend so that concurrent ejections
// cannot exceed the cap; it is reached only after a run of failures.
#pragma once

#include <cstddef>
#include <mutex>
#include <optional>
#include <span>

#include "conf/model.hpp"
#include "lb/endpoint.hpp"

namespace svcproxy::lb {

enum class Outcome { Success, ConnectFailure, Reset, Http5xx };

const char* to_string(Outcome outcome);

// What report() did, for the caller's log line and metrics.
struct Ejection {
  Outcome cause;
  int consecutive;      // failures in a row that triggered it
  int ejection_number;  // 1 for the first ejection since the count last decayed
  conf::Duration duration;
};

// base_ejection_time x 2^previous_ejections, capped at max(max_ejection_time, base).
conf::Duration ejection_duration(const conf::OutlierDetection& settings, int previous_ejections);

// How many of `endpoint_count` endpoints may be ejected at the same time.
std::size_t max_ejected(const conf::OutlierDetection& settings, std::size_t endpoint_count);

class OutlierDetector {
 public:
  explicit OutlierDetector(conf::OutlierDetection settings) : settings_(settings) {}

  // Records one outcome of `endpoint`, one of `endpoints` (its Backend's). Returns the
  // ejection when this outcome caused one.
  std::optional<Ejection> report(Endpoint& endpoint, Outcome outcome, Clock::time_point now,
                                 std::span<const EndpointPtr> endpoints);

  const conf::OutlierDetection& settings() const { return settings_; }

 private:
  void record_success(Endpoint& endpoint, Clock::time_point now) const;
  std::optional<Ejection> try_eject(Endpoint& endpoint, Outcome cause, int consecutive,
                                    Clock::time_point now, std::span<const EndpointPtr> endpoints);

  const conf::OutlierDetection settings_;
  std::mutex ejection_mutex_;
};

}  // namespace svcproxy::lb

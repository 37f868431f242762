#include "lb/outlier_detection.hpp"

#include <algorithm>

namespace svcproxy::lb {
namespace {

constexpr auto kRelaxed = std::memory_order_relaxed;

// Zeroes a counter without writing a cache line every worker reads when it is already 0.
void reset(std::atomic<int>& counter) {
  if (counter.load(kRelaxed) != 0) counter.store(0, kRelaxed);
}

std::size_t count_ejected(std::span<const EndpointPtr> endpoints, Clock::time_point now) {
  return static_cast<std::size_t>(std::count_if(
      endpoints.begin(), endpoints.end(), [&](const EndpointPtr& e) { return e->ejected(now); }));
}

}  // namespace

const char* to_string(Outcome outcome) {
  switch (outcome) {
    case Outcome::Success:
      return "success";
    case Outcome::ConnectFailure:
      return "connect failure";
    case Outcome::Reset:
      return "reset";
    case Outcome::Http5xx:
      return "5xx";
  }
  return "?";
}

conf::Duration ejection_duration(const conf::OutlierDetection& settings, int previous_ejections) {
  const conf::Duration cap = std::max(settings.max_ejection_time, settings.base_ejection_time);
  conf::Duration duration = settings.base_ejection_time;
  // Doubling stops at the cap, so no overflow whatever the count.
  for (int i = 0; i < previous_ejections && duration < cap; ++i)
    duration *= 2;
  return std::min(duration, cap);
}

std::size_t max_ejected(const conf::OutlierDetection& settings, std::size_t endpoint_count) {
  const auto percent = static_cast<std::size_t>(std::clamp(settings.max_ejection_percent, 0, 100));
  return endpoint_count * percent / 100;
}

std::optional<Ejection> OutlierDetector::report(Endpoint& endpoint, Outcome outcome,
                                                Clock::time_point now,
                                                std::span<const EndpointPtr> endpoints) {
  if (!settings_.enabled) return std::nullopt;
  if (outcome == Outcome::Success) {
    record_success(endpoint, now);
    return std::nullopt;
  }
  // Late failures of connections opened before the ejection must not extend it.
  if (endpoint.ejected(now)) return std::nullopt;
  OutlierCounters& counters = endpoint.outlier_counters();
  const bool is_5xx = outcome == Outcome::Http5xx;
  std::atomic<int>& counter = is_5xx ? counters.consecutive_5xx : counters.consecutive_failures;
  const int threshold = is_5xx ? settings_.consecutive_5xx : settings_.consecutive_failures;
  const int consecutive = counter.fetch_add(1, kRelaxed) + 1;
  if (threshold <= 0 || consecutive < threshold) return std::nullopt;  // 0 disables the kind
  return try_eject(endpoint, outcome, consecutive, now, endpoints);
}

void OutlierDetector::record_success(Endpoint& endpoint, Clock::time_point now) const {
  OutlierCounters& counters = endpoint.outlier_counters();
  reset(counters.consecutive_failures);
  reset(counters.consecutive_5xx);
  if (counters.ejections.load(kRelaxed) != 0 &&
      now >= endpoint.ejected_until() + settings_.max_ejection_time)
    counters.ejections.store(0, kRelaxed);
}

std::optional<Ejection> OutlierDetector::try_eject(Endpoint& endpoint, Outcome cause,
                                                   int consecutive, Clock::time_point now,
                                                   std::span<const EndpointPtr> endpoints) {
  const std::size_t allowed = max_ejected(settings_, endpoints.size());
  if (allowed == 0) return std::nullopt;  // e.g. a single endpoint: never lock for nothing
  std::lock_guard lock(ejection_mutex_);
  if (endpoint.ejected(now)) return std::nullopt;  // another worker just ejected it
  // At the cap the counter keeps growing, so the endpoint is ejected once there is room.
  if (count_ejected(endpoints, now) >= allowed) return std::nullopt;
  OutlierCounters& counters = endpoint.outlier_counters();
  const int previous = counters.ejections.fetch_add(1, kRelaxed);
  const conf::Duration duration = ejection_duration(settings_, previous);
  endpoint.eject_until(now + duration);
  counters.consecutive_failures.store(0, kRelaxed);  // a fresh count after it returns
  counters.consecutive_5xx.store(0, kRelaxed);
  return Ejection{cause, consecutive, previous + 1, duration};
}

}  // namespace svcproxy::lb

#include "lb/health_state.hpp"

#include <algorithm>

namespace svcproxy::lb {

HealthState::HealthState(int success_threshold, int failure_threshold, bool initially_ready)
    // Kubernetes rejects thresholds below 1; treat them as 1 rather than never flipping.
    : success_threshold_(std::max(success_threshold, 1)),
      failure_threshold_(std::max(failure_threshold, 1)),
      ready_(initially_ready) {}

bool HealthState::record(bool success) {
  if (success == ready_) {
    consecutive_ = 0;  // a result that agrees breaks the streak towards a flip
    return false;
  }
  ++consecutive_;
  const int threshold = success ? success_threshold_ : failure_threshold_;
  if (consecutive_ < threshold) return false;
  ready_ = success;
  consecutive_ = 0;
  return true;
}

}  // namespace svcproxy::lb

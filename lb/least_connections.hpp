#pragma once

#include <atomic>
#include <cstdint>

#include "lb/policy.hpp"

namespace svcproxy::lb {

// The eligible endpoint with the fewest active connections/requests (Endpoint::active(),
// counted across all workers). Ties go round-robin: the scan starts at a rotating index
// shared by all workers, so equally loaded endpoints take turns instead of the first one
// taking everything. O(endpoints) per pick, with an early exit on an idle endpoint.
//
// Thread-safe. Concurrent picks may read the same counts and choose the same endpoint
// before either increments it; the next picks see the difference, so this only matters
// for bursts, as in every least-connections balancer without a global lock.
class LeastConnections final : public Policy {
 public:
  std::size_t pick(std::span<const EndpointPtr> endpoints, Eligible eligible) override;

 private:
  std::atomic<std::uint64_t> next_start_{0};
};

}  // namespace svcproxy::lb

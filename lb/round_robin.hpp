#pragma once

#include <atomic>
#include <cstdint>

#include "lb/policy.hpp"

namespace svcproxy::lb {

// One shared counter per service port, so the rotation is fair across all workers:
// 3 endpoints and 300 picks give 100 each, whichever workers made them.
class RoundRobin final : public Policy {
 public:
  std::size_t pick(std::span<const EndpointPtr> endpoints, Eligible eligible) override;

 private:
  std::atomic<std::uint64_t> next_{0};
};

}  // namespace svcproxy::lb

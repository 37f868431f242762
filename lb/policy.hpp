// A balancing algorithm: chooses one endpoint among those the backend allows. One file
// per algorithm; no sockets, no clocks of their own.
#pragma once

#include <cstddef>
#include <memory>
#include <span>

#include "conf/model.hpp"
#include "lb/endpoint.hpp"
#include "lb/function_ref.hpp"

namespace svcproxy::lb {

// True for endpoints that may take this connection or request. A FunctionRef rather than a
// std::function: it is built on every pick and must cost nothing (see bench/).
using Eligible = FunctionRef<bool(const Endpoint&)>;

class Policy {
 public:
  virtual ~Policy() = default;
  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);

  // The index of the chosen endpoint, or kNone when no endpoint is eligible.
  // Called concurrently from every worker.
  virtual std::size_t pick(std::span<const EndpointPtr> endpoints, Eligible eligible) = 0;
};

// The index after `index` in a ring of `count`. A comparison rather than `%`: a division
// per endpoint dominated full scans of 10,000 endpoints (bench/lb_pick_benchmark).
inline std::size_t next_in_ring(std::size_t index, std::size_t count) {
  return index + 1 == count ? 0 : index + 1;
}

std::unique_ptr<Policy> make_policy(conf::LoadBalancing policy);

}  // namespace svcproxy::lb

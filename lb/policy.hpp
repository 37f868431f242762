// A balancing algorithm: chooses one endpoint among those the backend allows. One file
// per algorithm; no sockets, no clocks of their own.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
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

// A pick that drew `ticket` from a shared rotation `counter` but chose the endpoint
// `skipped` places further on (the ones between could not take it) consumes those turns
// too, so the next pick starts after the chosen endpoint. Otherwise the endpoint after an
// ineligible one would also take that one's turn: with one of three pods down, one of the
// two others would get 2/3 of the traffic. Only if no other pick drew meanwhile: under
// contention a turn may be repeated, never lost. One CAS, and only when something was
// skipped.
inline void consume_skipped_turns(std::atomic<std::uint64_t>& counter, std::uint64_t ticket,
                                  std::size_t skipped) {
  if (skipped == 0) return;
  std::uint64_t expected = ticket + 1;
  counter.compare_exchange_strong(expected, ticket + 1 + skipped, std::memory_order_relaxed);
}

std::unique_ptr<Policy> make_policy(conf::LoadBalancing policy);

}  // namespace svcproxy::lb

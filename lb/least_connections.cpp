#include "lb/least_connections.hpp"

namespace svcproxy::lb {

std::size_t LeastConnections::pick(std::span<const EndpointPtr> endpoints, Eligible eligible) {
  const std::size_t count = endpoints.size();
  if (count == 0) return kNone;
  const std::uint64_t ticket = next_start_.fetch_add(1, std::memory_order_relaxed);
  const std::size_t start = ticket % count;
  std::size_t best = kNone;
  std::size_t best_distance = 0;  // from `start`
  int best_active = 0;
  for (std::size_t i = 0, index = start; i < count; ++i, index = next_in_ring(index, count)) {
    const Endpoint& endpoint = *endpoints[index];
    const int active = endpoint.active();
    // Strictly fewer: among equals the first after the rotating start wins.
    if ((best == kNone || active < best_active) && eligible(endpoint)) {
      best = index;
      best_distance = i;
      best_active = active;
      if (active <= 0) break;  // nothing can beat an idle endpoint
    }
  }
  // The next scan starts after the winner, so ties keep rotating evenly even when the
  // endpoint at `start` was ineligible or busier.
  if (best != kNone) consume_skipped_turns(next_start_, ticket, best_distance);
  return best;
}

}  // namespace svcproxy::lb

#include "lb/least_connections.hpp"

namespace svcproxy::lb {

std::size_t LeastConnections::pick(std::span<const EndpointPtr> endpoints, Eligible eligible) {
  const std::size_t count = endpoints.size();
  if (count == 0) return kNone;
  const std::size_t start = next_start_.fetch_add(1, std::memory_order_relaxed) % count;
  std::size_t best = kNone;
  int best_active = 0;
  for (std::size_t i = 0, index = start; i < count; ++i, index = next_in_ring(index, count)) {
    const Endpoint& endpoint = *endpoints[index];
    const int active = endpoint.active();
    // Strictly fewer: among equals the first after the rotating start wins.
    if ((best == kNone || active < best_active) && eligible(endpoint)) {
      best = index;
      best_active = active;
      if (active <= 0) break;  // nothing can beat an idle endpoint
    }
  }
  return best;
}

}  // namespace svcproxy::lb

#include "lb/round_robin.hpp"

namespace svcproxy::lb {

std::size_t RoundRobin::pick(std::span<const EndpointPtr> endpoints, Eligible eligible) {
  const std::size_t count = endpoints.size();
  if (count == 0) return kNone;
  const std::size_t start = next_.fetch_add(1, std::memory_order_relaxed) % count;
  // An ineligible endpoint passes its turn to the next one in order.
  for (std::size_t i = 0, index = start; i < count; ++i, index = next_in_ring(index, count))
    if (eligible(*endpoints[index])) return index;
  return kNone;
}

}  // namespace svcproxy::lb

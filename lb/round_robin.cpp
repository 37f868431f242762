#include "lb/round_robin.hpp"

namespace svcproxy::lb {

std::size_t RoundRobin::pick(std::span<const EndpointPtr> endpoints, Eligible eligible) {
  const std::size_t count = endpoints.size();
  if (count == 0) return kNone;
  const std::uint64_t ticket = next_.fetch_add(1, std::memory_order_relaxed);
  const std::size_t start = ticket % count;
  // An ineligible endpoint's turn goes to the next eligible one, which then also uses up
  // its own turn, so eligible endpoints keep equal shares.
  for (std::size_t i = 0, index = start; i < count; ++i, index = next_in_ring(index, count)) {
    if (!eligible(*endpoints[index])) continue;
    consume_skipped_turns(next_, ticket, i);
    return index;
  }
  return kNone;
}

}  // namespace svcproxy::lb

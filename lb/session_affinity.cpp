#include "lb/session_affinity.hpp"

#include <algorithm>

namespace svcproxy::lb {
namespace {
// Below this size a sweep is not worth its scan.
constexpr std::size_t kMinSweepSize = 1024;
constexpr std::chrono::seconds kFullSweepInterval{1};
}  // namespace

AffinityTable::AffinityTable(conf::Duration timeout, std::size_t max_clients)
    : timeout_(timeout), max_clients_(max_clients), next_sweep_size_(kMinSweepSize) {}

EndpointPtr AffinityTable::route(std::string_view client_ip, Clock::time_point now,
                                 FindEligible find_eligible, PickNew pick_new) {
  std::lock_guard lock(mutex_);
  if (auto found = entries_.find(client_ip); found != entries_.end()) {
    Entry& entry = found->second;
    if (!expired(entry, now)) {
      if (EndpointPtr endpoint = find_eligible(entry.pod_key)) {
        entry.last_used = now;
        return endpoint;
      }
    }
    entries_.erase(found);  // idle too long, or its pod may not take traffic: move the client
  }
  EndpointPtr chosen = pick_new();
  if (chosen) remember(client_ip, chosen->address().pod_key(), now);
  return chosen;
}

std::size_t AffinityTable::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

bool AffinityTable::expired(const Entry& entry, Clock::time_point now) const {
  return now - entry.last_used >= timeout_;
}

void AffinityTable::remember(std::string_view client_ip, std::string pod_key,
                             Clock::time_point now) {
  if (should_sweep(now)) sweep_expired(now);
  if (entries_.size() >= max_clients_) return;  // full of live clients: balance unremembered
  entries_.emplace(std::string(client_ip), Entry{std::move(pod_key), now});
}

bool AffinityTable::should_sweep(Clock::time_point now) const {
  // When full, a sweep per new client would make a flood of clients quadratic.
  if (entries_.size() >= max_clients_) return now - last_sweep_ >= kFullSweepInterval;
  return entries_.size() >= next_sweep_size_;
}

void AffinityTable::sweep_expired(Clock::time_point now) {
  std::erase_if(entries_, [&](const auto& item) { return expired(item.second, now); });
  last_sweep_ = now;
  // Sweeping when the table doubles keeps sweeps amortized O(1) per insertion.
  next_sweep_size_ = std::max(kMinSweepSize, 2 * entries_.size());
}

}  // namespace svcproxy::lb

// sessionAffinity: ClientIP. Remembers which pod each client IP was sent to, so its next
// connections go there too. One table per Service, shared by all the Service's port
// Backends: entries name the pod ("namespace/name"), not an endpoint, because each port
// has its own Endpoint for the same pod.
//
// An entry holds while its pod is eligible for the port being picked and it has been idle
// less than the timeout; otherwise it is dropped at once and the client is balanced anew
// (kubernetes/kubernetes#110302, #103000: Kubernetes keeps sending to a pod that went
// unready). Time is the caller's (`now`), so tests inject it.
//
// Thread-safe: one mutex per table, held across lookup and re-pick so concurrent first
// connections of one client agree on one pod. Only services with affinity pay for it.
// Memory is bounded: expired entries are swept when the table doubles, and at
// `max_clients` a new client is balanced without being remembered.
#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "conf/model.hpp"
#include "lb/endpoint.hpp"
#include "lb/function_ref.hpp"

namespace svcproxy::lb {

class AffinityTable {
 public:
  static constexpr std::size_t kDefaultMaxClients = 100'000;  // ~10 MB at worst

  explicit AffinityTable(conf::Duration timeout, std::size_t max_clients = kDefaultMaxClients);
  AffinityTable(const AffinityTable&) = delete;
  AffinityTable& operator=(const AffinityTable&) = delete;

  // The pod's endpoint on this port when it may take the client now, else nullptr.
  using FindEligible = FunctionRef<EndpointPtr(std::string_view pod_key)>;
  // A balanced choice for a client without a valid entry; nullptr when none is eligible.
  using PickNew = FunctionRef<EndpointPtr()>;

  // The remembered pod's endpoint while the entry is valid (refreshing its idle time),
  // else `pick_new()`, which is then remembered for the client.
  EndpointPtr route(std::string_view client_ip, Clock::time_point now, FindEligible find_eligible,
                    PickNew pick_new);

  conf::Duration timeout() const { return timeout_; }
  std::size_t size() const;

 private:
  struct Entry {
    std::string pod_key;
    Clock::time_point last_used;
  };
  // Transparent, so a lookup by string_view does not build a std::string.
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const {
      return std::hash<std::string_view>{}(text);
    }
  };

  bool expired(const Entry& entry, Clock::time_point now) const;
  void remember(std::string_view client_ip, std::string pod_key, Clock::time_point now);
  bool should_sweep(Clock::time_point now) const;
  void sweep_expired(Clock::time_point now);

  const conf::Duration timeout_;
  const std::size_t max_clients_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry, Hash, std::equal_to<>> entries_;  // by client IP
  std::size_t next_sweep_size_;
  Clock::time_point last_sweep_{};
};

}  // namespace svcproxy::lb

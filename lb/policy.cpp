#include "lb/policy.hpp"

#include "lb/least_connections.hpp"
#include "lb/round_robin.hpp"

namespace svcproxy::lb {

std::unique_ptr<Policy> make_policy(conf::LoadBalancing policy) {
  switch (policy) {
    case conf::LoadBalancing::RoundRobin:
      return std::make_unique<RoundRobin>();
    case conf::LoadBalancing::LeastConnections:
      return std::make_unique<LeastConnections>();
  }
  return std::make_unique<RoundRobin>();
}

}  // namespace svcproxy::lb

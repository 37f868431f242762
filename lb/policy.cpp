#include "lb/policy.hpp"

#include "lb/round_robin.hpp"

namespace svcproxy::lb {

std::unique_ptr<Policy> make_policy(conf::LoadBalancing policy) {
  switch (policy) {
    case conf::LoadBalancing::RoundRobin:
    case conf::LoadBalancing::LeastConnections:  // TODO(issue 4): least-connections
      return std::make_unique<RoundRobin>();
  }
  return std::make_unique<RoundRobin>();
}

}  // namespace svcproxy::lb

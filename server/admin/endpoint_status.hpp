// How an endpoint stands, in the words the admin API and /metrics use: a state, the
// EndpointSlice-style conditions, and why it is excluded from new traffic. Pure; reads
// the endpoint's atomics, so callable from any thread.
#pragma once

#include <string>

#include "lb/endpoint.hpp"

namespace svcproxy::server {

enum class EndpointState { Ready, NotReady, Terminating, Ejected };

struct EndpointStatus {
  EndpointState state = EndpointState::Ready;
  bool ready = true;         // takes new traffic
  bool serving = true;       // readiness probe passes (even while terminating)
  bool terminating = false;  // removed from the configuration or DNS; draining
  std::string reason;        // empty when ready
};

// Terminating wins over a failing probe, which wins over an ejection: the first names
// what an operator must fix first.
EndpointStatus endpoint_status(const lb::Endpoint& endpoint, lb::Clock::time_point now);

const char* to_string(EndpointState state);

}  // namespace svcproxy::server

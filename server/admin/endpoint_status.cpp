#include "server/admin/endpoint_status.hpp"

namespace svcproxy::server {

EndpointStatus endpoint_status(const lb::Endpoint& endpoint, lb::Clock::time_point now) {
  EndpointStatus status;
  status.serving = endpoint.ready();
  status.terminating = endpoint.terminating();
  if (status.terminating) {
    status.state = EndpointState::Terminating;
    status.reason = "Removed";
  } else if (!status.serving) {
    status.state = EndpointState::NotReady;
    status.reason = "ReadinessProbeFailing";
  } else if (endpoint.ejected(now)) {
    status.state = EndpointState::Ejected;
    status.reason = "Ejected";
  }
  status.ready = status.state == EndpointState::Ready;
  return status;
}

const char* to_string(EndpointState state) {
  switch (state) {
    case EndpointState::Ready:
      return "ready";
    case EndpointState::NotReady:
      return "not_ready";
    case EndpointState::Terminating:
      return "terminating";
    case EndpointState::Ejected:
      return "ejected";
  }
  return "?";
}

}  // namespace svcproxy::server

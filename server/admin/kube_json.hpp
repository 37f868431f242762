// Services and their endpoints as Kubernetes API objects (v1 Service, v1 Endpoints), so
// kubectl-minded tools and client libraries can read svcproxy's view. Pure functions of
// control-thread data; svcproxy's extras sit in fields a Kubernetes client ignores.
#pragma once

#include <boost/json/object.hpp>

#include "conf/model.hpp"
#include "discovery/backends.hpp"

namespace svcproxy::server {

// A v1 Service with the allocated clusterIP and nodePorts filled in.
boost::json::object service_json(const conf::Service& service, const conf::ProxySettings& proxy);

// A v1 Endpoints: one subset per service port and target port. Every address carries an
// EndpointSlice-style `conditions` {ready, serving, terminating} and a `svcproxy` object
// {state, reason (when excluded), activeConnections}.
boost::json::object endpoints_json(const conf::Service& service,
                                   const discovery::BackendMap& backends,
                                   lb::Clock::time_point now);

}  // namespace svcproxy::server

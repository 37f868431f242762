// Services and their endpoints as Kubernetes API objects (v1 Service, v1 Endpoints), so
// kubectl-minded tools and client libraries can read svcproxy's view. Pure functions of
// control-thread data; svcproxy's extras sit in fields a Kubernetes client ignores.
#pragma once

#include <boost/json/object.hpp>
#include <map>
#include <string>
#include <string_view>

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

// object[section][key] when it is a string ("metadata", "name"); empty otherwise.
std::string string_at(const boost::json::object& object, std::string_view section,
                      std::string_view key);

// Whether each pod ("namespace/name") that some Service's endpoints include takes traffic:
// ready when any of its endpoints is. Pods no Service selects are absent.
std::map<std::string, bool> pod_readiness(const discovery::BackendMap& backends,
                                          lb::Clock::time_point now);

// A v1 Pod: spec.nodeName and containers, status.phase Running, podIP, and the Ready
// condition svcproxy decided (`ready`: nullopt when no Service selects the pod, so
// nothing probes it and it counts as ready, as a pod without a readinessProbe does).
boost::json::object pod_json(const conf::Pod& pod, std::optional<bool> ready);

// An apps/v1 Deployment; status counts the pods it owns (spec.template inherited).
boost::json::object deployment_json(const conf::Deployment& deployment, int pods, int ready);

// A v1 Node: the node's InternalIP and a Ready condition (it is known because it is live).
boost::json::object node_json(const conf::NodeRef& node);

boost::json::object namespace_json(const std::string& name);

// The discovery.k8s.io/v1 EndpointSlices of a Service: one per service port and target
// port number (an EndpointSlice has one port list for all its endpoints), named
// "<service>-<port name or number>[-<target port>]".
std::vector<boost::json::object> endpoint_slices_json(const conf::Service& service,
                                                      const discovery::BackendMap& backends,
                                                      lb::Clock::time_point now);

}  // namespace svcproxy::server

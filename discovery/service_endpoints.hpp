// Which pods back a service port: label selection within the namespace and targetPort
// resolution. Pure functions over configuration values.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "conf/model.hpp"
#include "discovery/pod_index.hpp"
#include "lb/endpoint.hpp"

namespace svcproxy::discovery {

// Pods of the service's namespace whose labels contain every selector pair (an empty
// selector selects nothing), with a podIP, in pod-name order. A named targetPort is looked
// up in each pod's container ports; a pod that does not declare it is skipped, as in
// Kubernetes.
std::vector<lb::EndpointAddress> select_endpoints(const conf::Service& service,
                                                  const conf::ServicePort& port,
                                                  const std::vector<conf::Pod>& pods);
std::vector<lb::EndpointAddress> select_endpoints(const conf::Service& service,
                                                  const conf::ServicePort& port,
                                                  const conf::PodList& pods);

// The same over an index built once for many services.
std::vector<lb::EndpointAddress> select_endpoints(const conf::Service& service,
                                                  const conf::ServicePort& port,
                                                  const PodIndex& pods);

}  // namespace svcproxy::discovery

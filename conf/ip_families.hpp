// A Service's IP families on this cluster, as kube-apiserver settles them before allocating
// (initIPFamilyFields, pkg/registry/core/service/storage/alloc.go): ipFamilyPolicy defaulted,
// ipFamilies completed from the written clusterIPs, the cluster's primary family and, for a
// dual-stack policy on a dual-stack cluster, the other family. The checks that need the
// cluster's families (serviceCIDR) are here; those that do not are in parse_service.cpp.
#pragma once

#include <string>
#include <vector>

#include "conf/addresses.hpp"
#include "conf/diagnostics.hpp"
#include "conf/model.hpp"

namespace svcproxy::conf {

struct IpFamilyFields {
  IpFamilyPolicy policy = IpFamilyPolicy::SingleStack;
  std::vector<IpFamily> families;  // one per ClusterIP, primary first; none for ExternalName
};

// Appends to `errors` (when given) what the cluster cannot satisfy, with Kubernetes' messages.
IpFamilyFields ip_family_fields(const Service& service, const ServiceCidr& cidr,
                                Diagnostics* errors);

// spec.clusterIPs: the ClusterIPs a Service holds ("None" for a headless one).
std::vector<std::string> cluster_ips(const Service& service);

}  // namespace svcproxy::conf

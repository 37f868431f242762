// ClusterIP and NodePort allocation, deterministic: the same files give the same addresses.
//
// Explicit values are claimed first, in file order, so a conflict names the earlier
// Service. Then every Service (or port) still without one gets one, in namespace/name
// order, by probing linearly from a hash (FNV-1a) of its namespace/name (and port name):
// an address stays the same when unrelated Services are added, unless they collide.
//
// Both pools keep a low band for explicit choices, as Kubernetes does (KEP-3070/3668):
// automatic allocation takes the upper band and the low band only when the upper is full.
// NodePorts: the lowest min(max(16, size/32), 128) ports (30000-30085 by default).
// ClusterIPs: the lowest min(max(16, size/16), 256) addresses after the network address.
// The network and broadcast addresses of serviceCIDR are never used; of an IPv6 range, as
// Kubernetes, neither the network (subnet-router) address nor any past its first 65536.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "conf/addresses.hpp"
#include "conf/diagnostics.hpp"
#include "conf/model.hpp"

namespace svcproxy::conf {

// Allocates both, reporting conflicts, values outside their pool and exhausted pools.
void allocate(Snapshot& snapshot, Diagnostics& errors);

// Both families of a dual-stack serviceCIDR: ipFamilies and ipFamilyPolicy settled as
// conf/ip_families.hpp says, clusterIPs[k] from the range of ipFamilies[k].
void allocate_cluster_ips(ServiceList& services, const ServiceCidr& cidr, Diagnostics& errors);
void allocate_node_ports(ServiceList& services, const PortRange& range, Diagnostics& errors);

// What allocation would choose when `taken` says which values are in use elsewhere (cluster
// mode: the allocation keys in etcd): the same probe from the same hash, so one Service gets
// the same address from a file and from `svcproxy apply` when nothing collides.
std::optional<std::uint32_t> pick_cluster_ip(const Ipv4Cidr& cidr, std::string_view service_key,
                                             const std::function<bool(std::uint32_t)>& taken);
std::optional<int> pick_node_port(const PortRange& range, std::string_view hash_key,
                                  const std::function<bool(int)>& taken);
// The key a NodePort's hash is taken from: "namespace/name:portName" (or the port number).
std::string node_port_hash_key(std::string_view service_key, std::string_view port_name, int port);

// The key a healthCheckNodePort's hash is taken from: "namespace/name:healthCheckNodePort"
// (no port name has capitals, so it never meets a port's key).
std::string health_check_node_port_hash_key(std::string_view service_key);

// The size of the low band kept for explicit NodePorts in a range of `size` ports.
int reserved_node_port_band(int size);

// A hash that is the same on every platform and build (std::hash is not).
std::uint64_t stable_hash(std::string_view text);

}  // namespace svcproxy::conf

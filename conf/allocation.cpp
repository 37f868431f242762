#include "conf/allocation.hpp"

#include <algorithm>
#include <functional>
#include <optional>
#include <unordered_map>
#include <utility>

#include "conf/ip_families.hpp"

namespace svcproxy::conf {
namespace {

// A free value: probing from `hash` in the upper band, then in the low band. A pool smaller
// than its band is all band: without the clamp `size - reserved` wraps and the probe walks
// far outside the pool.
std::optional<std::uint64_t> pick_free(std::uint64_t first, std::uint64_t size,
                                       std::uint64_t reserved, std::uint64_t hash,
                                       const std::function<bool(std::uint64_t)>& taken) {
  reserved = std::min(reserved, size);
  const auto probe = [&](std::uint64_t start, std::uint64_t count) -> std::optional<std::uint64_t> {
    for (std::uint64_t i = 0; i < count; ++i) {
      const std::uint64_t value = start + (hash + i) % count;
      if (!taken(value)) return value;
    }
    return std::nullopt;
  };
  if (auto value = probe(first + reserved, size - reserved)) return value;
  return probe(first, reserved);
}

// A pool of consecutive values [first, first + size) with a low band of `reserved` values
// for explicit choices. Remembers who holds what (a position in the service list), to name
// them in conflicts: hashed, without names, as 10,000 explicit ClusterIPs in a map of names
// showed in a reload.
class Pool {
 public:
  Pool(std::uint64_t first, std::uint64_t size, std::uint64_t reserved, std::size_t services)
      : first_(first), size_(size), reserved_(std::min(reserved, size)) {
    holders_.reserve(services);
  }

  bool contains(std::uint64_t value) const { return value - first_ < size_ && value >= first_; }
  std::optional<std::size_t> holder(std::uint64_t value) const {
    auto found = holders_.find(value);
    if (found == holders_.end()) return std::nullopt;
    return found->second;
  }
  void claim(std::uint64_t value, std::size_t holder) { holders_.emplace(value, holder); }

  std::optional<std::uint64_t> pick(std::uint64_t hash) const {
    return pick_free(first_, size_, reserved_, hash,
                     [this](std::uint64_t value) { return holders_.contains(value); });
  }

 private:
  std::uint64_t first_;
  std::uint64_t size_;
  std::uint64_t reserved_;
  std::unordered_map<std::uint64_t, std::size_t> holders_;
};

// Positions of services in namespace/name order, for allocation independent of file order.
std::vector<std::size_t> in_name_order(const ServiceList& services) {
  // Each key built once, not twice per comparison.
  std::vector<std::pair<std::string, std::size_t>> keyed;
  keyed.reserve(services.size());
  for (std::size_t i = 0; i < services.size(); ++i)
    keyed.emplace_back(services[i].key(), i);
  std::stable_sort(keyed.begin(), keyed.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::size_t> ordered;
  ordered.reserve(keyed.size());
  for (const auto& [key, i] : keyed)
    ordered.push_back(i);
  return ordered;
}

std::uint64_t reserved_cluster_ip_band(std::uint64_t usable) {
  return std::min<std::uint64_t>(std::max<std::uint64_t>(16, usable / 16), 256);
}

// The addresses of a range ClusterIPs come from, as offsets from its network address, as
// Kubernetes' ipallocator has them: never the network address (IPv6: the subnet-router
// anycast address), nor IPv4's broadcast address; of IPv6 only the first 65536 addresses
// (the size of its bitmap).
std::uint64_t usable_cluster_ips(const IpCidr& range) {
  if (range.family == IpFamily::IPv4) return (std::uint64_t{1} << range.host_bits()) - 2;
  return (std::uint64_t{1} << std::min(range.host_bits(), 16)) - 1;
}

// One range of serviceCIDR with who holds what in it.
struct RangePool {
  const IpCidr* range;
  Pool pool;
  std::string text;  // "fd00:10:96::/112", for messages
};

RangePool cluster_ip_pool(const IpCidr& range, std::size_t services) {
  const std::uint64_t usable = usable_cluster_ips(range);
  return {&range, Pool(1, usable, reserved_cluster_ip_band(usable), services), range.to_string()};
}

RangePool* pool_of(std::vector<RangePool>& pools, IpFamily family) {
  for (auto& pool : pools)
    if (pool.range->family == family) return &pool;
  return nullptr;
}

// A written ClusterIP (spec.clusterIP, or spec.clusterIPs[1] of a dual-stack Service) of a
// family the cluster has (ip_family_fields reported the others).
void claim_explicit_cluster_ip(const ServiceList& services, std::size_t i, bool secondary,
                               std::vector<RangePool>& pools, Diagnostics& errors) {
  const Service& service = services[i];
  const std::string& ip = secondary ? service.secondary_cluster_ip : service.cluster_ip;
  const auto family = ip_family_of(ip);
  RangePool* pool = family ? pool_of(pools, *family) : nullptr;
  if (!pool) return;
  const SourceLocation& at =
      secondary ? service.secondary_cluster_ip_location : service.cluster_ip_location;
  const char* path = secondary ? "spec.clusterIPs[1]" : "spec.clusterIP";
  const auto offset = pool->range->offset_of(ip);
  if (!offset || !pool->pool.contains(*offset)) {
    errors.push_back({at, path,
                      "clusterIP " + ip + " is not a usable address of serviceCIDR " + pool->text,
                      object_name("Service", service.name)});
  } else if (const auto holder = pool->pool.holder(*offset)) {
    errors.push_back({at, path,
                      "clusterIP " + ip + " is already allocated by " + services[*holder].key(),
                      object_name("Service", service.name)});
  } else {
    pool->pool.claim(*offset, i);
  }
}

// Whether a Service still lacks one of the ClusterIPs its families call for.
bool wants_cluster_ip(const Service& service, const IpFamilyFields& fields) {
  if (service.headless || service.name.empty() || service.type == ServiceType::ExternalName)
    return false;
  return service.cluster_ip.empty() ||
         (fields.families.size() == 2 && service.secondary_cluster_ip.empty());
}

// Picks the ClusterIPs a Service lacks, family by family (clusterIPs[k] is of ipFamilies[k]).
void allocate_missing_cluster_ips(ServiceList& services, std::size_t i,
                                  const IpFamilyFields& fields, std::vector<RangePool>& pools,
                                  Diagnostics& errors) {
  for (std::size_t k = 0; k < fields.families.size() && k < 2; ++k) {
    const Service& service = services[i];
    if (!(k == 0 ? service.cluster_ip : service.secondary_cluster_ip).empty()) continue;
    RangePool* pool = pool_of(pools, fields.families[k]);
    if (!pool) continue;
    auto offset = pool->pool.pick(stable_hash(service.key()));
    if (!offset) {
      errors.push_back({service.location, k == 0 ? "spec.clusterIP" : "spec.clusterIPs[1]",
                        "serviceCIDR " + pool->text + " has no free address left"});
      continue;
    }
    pool->pool.claim(*offset, i);
    Service& changed = services.mutate(i);
    (k == 0 ? changed.cluster_ip : changed.secondary_cluster_ip) = pool->range->address_at(*offset);
  }
}

// NodePorts a Service may hold (written ones are claimed) ...
bool gets_node_ports(const Service& service) {
  return has_node_ports(service);
}

// ... and those it is given when it writes none: not a LoadBalancer with
// allocateLoadBalancerNodePorts: false ("don't allocate, but respect specific requests").
bool allocates_node_ports(const Service& service) {
  return gets_node_ports(service) &&
         (service.type != ServiceType::LoadBalancer || service.allocate_load_balancer_node_ports);
}

std::string port_key(const Service& service, const ServicePort& port) {
  return node_port_hash_key(service.key(), port.name, port.port);
}

std::string port_path(const Service& service, const ServicePort& port) {
  return "spec.ports[" + std::to_string(&port - service.ports.data()) + "].nodePort";
}

void claim_explicit_node_port(const ServiceList& services, std::size_t i, const ServicePort& port,
                              Pool& pool, const PortRange& range, Diagnostics& errors) {
  const Service& service = services[i];
  const std::string node_port = "nodePort " + std::to_string(port.node_port);
  if (!range.contains(port.node_port)) {
    errors.push_back({port.node_port_location, port_path(service, port),
                      node_port + " is outside the nodePortRange " + std::to_string(range.first) +
                          "-" + std::to_string(range.last),
                      object_name("Service", service.name)});
  } else if (const auto holder = pool.holder(port.node_port)) {
    // One Service may give its TCP and UDP ports of a number the same nodePort
    // (validateServicePort's Duplicate check is per protocol).
    const bool other_transport_of_same_service =
        *holder == i && std::none_of(service.ports.data(), &port, [&](const ServicePort& before) {
          return before.node_port == port.node_port && before.transport == port.transport;
        });
    if (!other_transport_of_same_service)
      errors.push_back({port.node_port_location, port_path(service, port),
                        node_port + " is already allocated by " + services[*holder].key(),
                        object_name("Service", service.name)});
  } else {
    pool.claim(port.node_port, i);
  }
}

void claim_explicit_health_check_node_port(const ServiceList& services, std::size_t i, Pool& pool,
                                           const PortRange& range, Diagnostics& errors) {
  const Service& service = services[i];
  const std::string port = "healthCheckNodePort " + std::to_string(service.health_check_node_port);
  if (!range.contains(service.health_check_node_port)) {
    errors.push_back({service.health_check_node_port_location, "spec.healthCheckNodePort",
                      port + " is outside the nodePortRange " + std::to_string(range.first) + "-" +
                          std::to_string(range.last),
                      object_name("Service", service.name)});
  } else if (const auto holder = pool.holder(service.health_check_node_port)) {
    errors.push_back({service.health_check_node_port_location, "spec.healthCheckNodePort",
                      port + " is already allocated by " + services[*holder].key(),
                      object_name("Service", service.name)});
  } else {
    pool.claim(service.health_check_node_port, i);
  }
}

bool wants_health_check_node_port(const Service& service) {
  return needs_health_check_node_port(service) && service.health_check_node_port == 0;
}

}  // namespace

std::uint64_t stable_hash(std::string_view text) {
  std::uint64_t hash = 14695981039346656037ULL;  // FNV-1a, 64 bit
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  return hash;
}

std::string node_port_hash_key(std::string_view service_key, std::string_view port_name, int port) {
  return std::string(service_key) + ":" +
         (port_name.empty() ? std::to_string(port) : std::string(port_name));
}

std::string health_check_node_port_hash_key(std::string_view service_key) {
  return std::string(service_key) + ":healthCheckNodePort";
}

std::optional<std::uint32_t> pick_cluster_ip(const Ipv4Cidr& cidr, std::string_view service_key,
                                             const std::function<bool(std::uint32_t)>& taken) {
  const std::uint64_t usable = cidr.size() - 2;
  auto value = pick_free(std::uint64_t{cidr.network} + 1, usable, reserved_cluster_ip_band(usable),
                         stable_hash(service_key), [&](std::uint64_t address) {
                           return taken(static_cast<std::uint32_t>(address));
                         });
  if (!value) return std::nullopt;
  return static_cast<std::uint32_t>(*value);
}

std::optional<int> pick_node_port(const PortRange& range, std::string_view hash_key,
                                  const std::function<bool(int)>& taken) {
  auto value = pick_free(range.first, range.size(), reserved_node_port_band(range.size()),
                         stable_hash(hash_key),
                         [&](std::uint64_t port) { return taken(static_cast<int>(port)); });
  if (!value) return std::nullopt;
  return static_cast<int>(*value);
}

int reserved_node_port_band(int size) {
  return std::min(std::max(16, size / 32), 128);
}

// Only the Services that get a value are changed, through ServiceList::mutate: the others
// stay shared with the document cache and the previous snapshot.
void allocate_cluster_ips(ServiceList& services, const ServiceCidr& cidr, Diagnostics& errors) {
  std::vector<RangePool> pools;
  pools.reserve(cidr.ranges.size());
  for (const auto& range : cidr.ranges)
    pools.push_back(cluster_ip_pool(range, services.size()));
  // A Service the cluster's families cannot satisfy gets nothing (and claims nothing).
  std::vector<std::optional<IpFamilyFields>> fields(services.size());
  for (std::size_t i = 0; i < services.size(); ++i) {
    const std::size_t before = errors.size();
    IpFamilyFields settled = ip_family_fields(services[i], cidr, &errors);
    if (errors.size() == before) fields[i] = std::move(settled);
  }
  for (std::size_t i = 0; i < services.size(); ++i) {
    if (!fields[i] || services[i].headless) continue;
    if (!services[i].cluster_ip.empty())
      claim_explicit_cluster_ip(services, i, false, pools, errors);
    if (!services[i].secondary_cluster_ip.empty())
      claim_explicit_cluster_ip(services, i, true, pools, errors);
  }
  const auto wants = [&](std::size_t i) {
    return fields[i] && wants_cluster_ip(services[i], *fields[i]);
  };
  // Sorting 10,000 names for nothing shows in a reload: most Services carry their IP.
  bool any = false;
  for (std::size_t i = 0; i < services.size() && !any; ++i)
    any = wants(i);
  if (!any) return;
  for (const std::size_t i : in_name_order(services))
    if (wants(i)) allocate_missing_cluster_ips(services, i, *fields[i], pools, errors);
}

void allocate_node_ports(ServiceList& services, const PortRange& range, Diagnostics& errors) {
  Pool pool(range.first, range.size(), reserved_node_port_band(range.size()),
            std::min<std::size_t>(services.size(), range.size()));
  for (std::size_t i = 0; i < services.size(); ++i)
    for (const auto& port : services[i].ports)
      if (gets_node_ports(services[i]) && port.node_port != 0)
        claim_explicit_node_port(services, i, port, pool, range, errors);
  for (std::size_t i = 0; i < services.size(); ++i)
    if (needs_health_check_node_port(services[i]) && services[i].health_check_node_port != 0)
      claim_explicit_health_check_node_port(services, i, pool, range, errors);
  const auto allocates = [](const Service& s) {
    return allocates_node_ports(s) || wants_health_check_node_port(s);
  };
  if (std::none_of(services.begin(), services.end(), allocates)) return;
  for (const std::size_t i : in_name_order(services)) {
    if (wants_health_check_node_port(services[i])) {
      Service& service = services.mutate(i);
      if (auto chosen = pool.pick(stable_hash(health_check_node_port_hash_key(service.key())))) {
        pool.claim(*chosen, i);
        service.health_check_node_port = static_cast<int>(*chosen);
      } else {
        errors.push_back({service.location, "spec.healthCheckNodePort",
                          "nodePortRange has no free port left",
                          object_name("Service", service.name)});
      }
    }
    if (!allocates_node_ports(services[i])) continue;
    const auto& ports = services[i].ports;
    if (std::none_of(ports.begin(), ports.end(), [](const auto& p) { return p.node_port == 0; }))
      continue;
    Service& service = services.mutate(i);
    for (auto& port : service.ports) {
      if (port.node_port != 0) continue;
      auto chosen = pool.pick(stable_hash(port_key(service, port)));
      if (!chosen) {
        errors.push_back(
            {port.location, port_path(service, port), "nodePortRange has no free port left"});
        continue;
      }
      pool.claim(*chosen, i);
      port.node_port = static_cast<int>(*chosen);
    }
  }
}

void allocate(Snapshot& snapshot, Diagnostics& errors) {
  // The ProxyConfig parser accepted only a valid serviceCIDR, so this parse cannot fail.
  const auto cidr = parse_service_cidr(snapshot.proxy.service_cidr);
  if (const auto* ranges = std::get_if<ServiceCidr>(&cidr))
    allocate_cluster_ips(snapshot.services, *ranges, errors);
  allocate_node_ports(snapshot.services, snapshot.proxy.node_port_range, errors);
}

}  // namespace svcproxy::conf

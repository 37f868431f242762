#include "conf/ip_families.hpp"

namespace svcproxy::conf {
namespace {

IpFamily other(IpFamily family) {
  return family == IpFamily::IPv4 ? IpFamily::IPv6 : IpFamily::IPv4;
}

void add_error(Diagnostics* errors, const Service& service, const SourceLocation& at,
               std::string path, std::string message) {
  if (errors)
    errors->push_back({at.line != 0 ? at : service.location, std::move(path), std::move(message),
                       object_name("Service", service.name)});
}

}  // namespace

std::vector<std::string> cluster_ips(const Service& service) {
  if (service.headless) return {"None"};
  std::vector<std::string> ips;
  for (const std::string* ip : {&service.cluster_ip, &service.secondary_cluster_ip})
    if (!ip->empty()) ips.push_back(*ip);
  return ips;
}

IpFamilyFields ip_family_fields(const Service& service, const ServiceCidr& cidr,
                                Diagnostics* errors) {
  IpFamilyFields fields;
  if (service.type == ServiceType::ExternalName) return fields;
  const bool headless_selectorless = service.headless && service.selector.empty();
  fields.policy = service.ip_family_policy.value_or(
      headless_selectorless ? IpFamilyPolicy::RequireDualStack : IpFamilyPolicy::SingleStack);
  fields.families = service.ip_families;
  bool failed = false;
  // Families inferred from written ClusterIPs (a better error than the families' own).
  const std::vector<std::string> ips =
      service.headless ? std::vector<std::string>{} : cluster_ips(service);
  for (std::size_t i = fields.families.size(); i < ips.size(); ++i) {
    const auto family = ip_family_of(ips[i]);
    if (!family) return fields;  // reported by the parser
    if (cidr.range_of(*family)) {
      fields.families.push_back(*family);
      continue;
    }
    add_error(errors, service,
              i == 0 ? service.cluster_ip_location : service.secondary_cluster_ip_location,
              "spec.clusterIPs[" + std::to_string(i) + "]",
              "Invalid value: \"" + ips[i] + "\": " + to_string(*family) +
                  " is not configured on this cluster");
    failed = true;
  }
  if (failed) return fields;
  if (headless_selectorless) {
    // Allowed what others are not: both families on a single-stack cluster.
    if (fields.families.empty()) fields.families.push_back(cidr.primary());
    if (fields.families.size() < 2 && fields.policy != IpFamilyPolicy::SingleStack)
      fields.families.push_back(other(fields.families[0]));
    return fields;
  }
  if (fields.policy == IpFamilyPolicy::RequireDualStack && !cidr.dual_stack()) {
    add_error(errors, service, service.ip_family_policy_location, "spec.ipFamilyPolicy",
              "Invalid value: \"RequireDualStack\": this cluster is not configured for "
              "dual-stack services");
    failed = true;
  }
  for (std::size_t i = 0; i < fields.families.size(); ++i)
    if (!cidr.range_of(fields.families[i])) {
      const SourceLocation at = i < service.ip_family_locations.size()
                                    ? service.ip_family_locations[i]
                                    : SourceLocation{};
      add_error(errors, service, at, "spec.ipFamilies[" + std::to_string(i) + "]",
                std::string("Invalid value: \"") + to_string(fields.families[i]) +
                    "\": not configured on this cluster");
      failed = true;
    }
  if (failed) return fields;
  if (fields.families.empty()) fields.families.push_back(cidr.primary());
  if (fields.policy != IpFamilyPolicy::SingleStack && fields.families.size() == 1 &&
      cidr.dual_stack())
    fields.families.push_back(other(fields.families[0]));
  return fields;
}

}  // namespace svcproxy::conf

// IPv6 and dual-stack ClusterIPs: serviceCIDR with an IPv6 range, ipFamilies, ipFamilyPolicy
// and clusterIPs as kube-apiserver settles and allocates them. Each case names the
// Kubernetes function its rule and message come from.
#include "conf/ip_families.hpp"

#include <doctest/doctest.h>

#include "conf/allocation.hpp"
#include "conf_test_support.hpp"

namespace svcproxy::conf {
namespace {

using testing::load_ok;
using testing::only_error;

// A ProxyConfig with `cidr` (3 lines), then a Service "web" whose spec starts on line 8.
std::string on_cluster(const std::string& cidr, const std::string& spec) {
  return "apiVersion: svcproxy.io/v1\nkind: ProxyConfig\nspec: {serviceCIDR: '" + cidr +
         "'}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n" + spec;
}

const std::string kDual = "127.96.0.0/12,fd00:10:96::/112";
const std::string kDualV6First = "fd00:10:96::/112,127.96.0.0/12";
const std::string kV6 = "fd00:10:96::/112";

Service only_service(const std::string& yaml) {
  const Snapshot snapshot = load_ok(yaml);
  REQUIRE(snapshot.services.size() == 1);
  return snapshot.services[0];
}

IpFamilyFields settled(const Service& service, const std::string& cidr) {
  return ip_family_fields(service, std::get<ServiceCidr>(parse_service_cidr(cidr)), nullptr);
}

const std::vector<IpFamily> kV4Only{IpFamily::IPv4};
const std::vector<IpFamily> kV6Only{IpFamily::IPv6};
const std::vector<IpFamily> kBoth{IpFamily::IPv4, IpFamily::IPv6};

// initIPFamilyFields: no policy is SingleStack, with the cluster's primary family (the first
// range of --service-cluster-ip-range), on a dual-stack cluster too.
TEST_CASE("SingleStack by default, of the primary family") {
  const Service web = only_service(on_cluster(kDual, "  ports: [{port: 80}]\n"));
  CHECK(web.cluster_ip.starts_with("127."));
  CHECK(web.secondary_cluster_ip.empty());
  CHECK(settled(web, kDual).policy == IpFamilyPolicy::SingleStack);
  CHECK(settled(web, kDual).families == kV4Only);
  const Service v6 = only_service(on_cluster(kDualV6First, "  ports: [{port: 80}]\n"));
  CHECK(v6.cluster_ip.starts_with("fd00:10:96::"));
  CHECK(settled(v6, kDualV6First).families == kV6Only);
  CHECK(cluster_ips(v6) == std::vector<std::string>{v6.cluster_ip});
}

// initIPFamilyFields: a SingleStack Service takes the family ipFamilies names.
TEST_CASE("ipFamilies: [IPv6] on a dual-stack cluster gets an IPv6 ClusterIP only") {
  const Service web =
      only_service(on_cluster(kDual, "  ports: [{port: 80}]\n  ipFamilies: [IPv6]\n"));
  CHECK(web.cluster_ip.starts_with("fd00:10:96::"));
  CHECK(web.secondary_cluster_ip.empty());
  CHECK(settled(web, kDual).families == kV6Only);
}

// initIPFamilyFields appends the other family for PreferDualStack and RequireDualStack on a
// dual-stack cluster; allocClusterIPs gives clusterIPs[k] from the range of ipFamilies[k].
TEST_CASE("PreferDualStack and RequireDualStack get both families, primary first") {
  for (const char* policy : {"PreferDualStack", "RequireDualStack"}) {
    const Service web = only_service(on_cluster(
        kDual, std::string("  ports: [{port: 80}]\n  ipFamilyPolicy: ") + policy + "\n"));
    CHECK(web.cluster_ip.starts_with("127."));
    CHECK(web.secondary_cluster_ip.starts_with("fd00:10:96::"));
    CHECK(settled(web, kDual).families == kBoth);
    CHECK(cluster_ips(web) == std::vector<std::string>{web.cluster_ip, web.secondary_cluster_ip});
  }
  const Service v6_first = only_service(on_cluster(
      kDual, "  ports: [{port: 80}]\n  ipFamilyPolicy: PreferDualStack\n  ipFamilies: [IPv6]\n"));
  CHECK(v6_first.cluster_ip.starts_with("fd00:10:96::"));
  CHECK(v6_first.secondary_cluster_ip.starts_with("127."));
}

// initIPFamilyFields: PreferDualStack on a single-stack cluster is single-stack; RequireDualStack
// is refused with Kubernetes' message.
TEST_CASE("dual-stack policies on a single-stack cluster") {
  const Service web =
      only_service(on_cluster(kV6, "  ports: [{port: 80}]\n  ipFamilyPolicy: PreferDualStack\n"));
  CHECK(web.cluster_ip.starts_with("fd00:10:96::"));
  CHECK(web.secondary_cluster_ip.empty());
  CHECK(settled(web, kV6).policy == IpFamilyPolicy::PreferDualStack);
  CHECK(
      only_error(on_cluster(kV6, "  ports: [{port: 80}]\n  ipFamilyPolicy: RequireDualStack\n")) ==
      "test.yaml:10:19: spec.ipFamilyPolicy: Invalid value: \"RequireDualStack\": this cluster "
      "is not configured for dual-stack services");
}

// initIPFamilyFields: "not configured on this cluster", for a family ipFamilies names and
// (a better error) for the family of a written clusterIPs entry.
TEST_CASE("a family the cluster does not have") {
  CHECK(only_error(on_cluster(kV6, "  ports: [{port: 80}]\n  ipFamilies: [IPv4]\n")) ==
        "test.yaml:10:16: spec.ipFamilies[0]: Invalid value: \"IPv4\": not configured on this "
        "cluster");
  CHECK(only_error(on_cluster("127.96.0.0/12",
                              "  ports: [{port: 80}]\n  clusterIP: 127.96.0.9\n"
                              "  clusterIPs: [127.96.0.9, 'fd00:10:96::9']\n"
                              "  ipFamilyPolicy: PreferDualStack\n")) ==
        "test.yaml:11:28: spec.clusterIPs[1]: Invalid value: \"fd00:10:96::9\": IPv6 is not "
        "configured on this cluster");
  CHECK(only_error(
            on_cluster("127.96.0.0/12", "  ports: [{port: 80}]\n  clusterIP: 'fd00:10:96::9'\n")) ==
        "test.yaml:10:14: spec.clusterIPs[0]: Invalid value: \"fd00:10:96::9\": IPv6 is not "
        "configured on this cluster");
}

// allocIPs: a written IPv6 ClusterIP is claimed in the IPv6 range, conflicts named as for
// IPv4; the range's network (subnet-router anycast) address is not usable (ipallocator.New).
TEST_CASE("written IPv6 ClusterIPs: usable, honoured and held once") {
  const Service web = only_service(
      on_cluster(kDual,
                 "  ports: [{port: 80}]\n  clusterIP: 127.96.0.9\n  clusterIPs: [127.96.0.9, "
                 "'fd00:10:96::9']\n  ipFamilyPolicy: RequireDualStack\n"));
  CHECK(web.cluster_ip == "127.96.0.9");
  CHECK(web.secondary_cluster_ip == "fd00:10:96::9");
  CHECK(only_service(on_cluster(kV6, "  ports: [{port: 80}]\n  clusterIP: 'fd00:10:96::ffff'\n"))
            .cluster_ip == "fd00:10:96::ffff");  // no broadcast address in IPv6
  CHECK(only_error(on_cluster(kV6, "  ports: [{port: 80}]\n  clusterIP: 'fd00:10:96::'\n")) ==
        "test.yaml:10:14: spec.clusterIP: clusterIP fd00:10:96:: is not a usable address of "
        "serviceCIDR fd00:10:96::/112");
  CHECK(only_error(on_cluster(kV6, "  ports: [{port: 80}]\n  clusterIP: 'fd00:10:97::1'\n"))
            .ends_with("is not a usable address of serviceCIDR fd00:10:96::/112"));
  const std::string second =
      "---\napiVersion: v1\nkind: Service\nmetadata: {name: api}\nspec:\n  ports: [{port: "
      "80}]\n  clusterIP: 127.96.0.10\n  clusterIPs: [127.96.0.10, 'fd00:10:96:0::9']\n"
      "  ipFamilyPolicy: PreferDualStack\n";
  CHECK(only_error(on_cluster(kDual, "  ports: [{port: 80}]\n  clusterIP: 'fd00:10:96::9'\n") +
                   second) ==
        "test.yaml:18:29: spec.clusterIPs[1]: clusterIP fd00:10:96:0::9 is already allocated by "
        "default/web");
}

// ValidateServiceClusterIPsRelatedFields: clusterIPs' own rules, no cluster needed.
TEST_CASE("clusterIPs: at most one per family, matching ipFamilies, None alone") {
  struct Case {
    std::string spec;  // after ports and ipFamilyPolicy: PreferDualStack
    std::string error;
  };
  const Case cases[] = {
      {"  clusterIP: 127.96.0.9\n  clusterIPs: [127.96.0.9, 127.96.0.10]\n",
       "test.yaml:12:15: spec.clusterIPs: Invalid value: may specify no more than one IP for "
       "each IP family"},
      {"  clusterIP: 127.96.0.9\n  clusterIPs: [127.96.0.9, 'fd00::1', 'fd00::2']\n",
       "test.yaml:12:15: spec.clusterIPs: Invalid value: may only hold up to 2 values"},
      {"  clusterIP: 127.96.0.9\n  clusterIPs: [127.96.0.9, nope]\n",
       "test.yaml:12:28: spec.clusterIPs[1]: Invalid value: \"nope\": must be a valid IP "
       "address, (e.g. 10.9.8.7 or 2001:db8::ffff)"},
      {"  clusterIP: None\n  clusterIPs: [None, 127.96.0.9]\n",
       "test.yaml:12:15: spec.clusterIPs: Invalid value: 'None' must be the first and only "
       "value"},
      {"  clusterIP: 127.96.0.9\n  ipFamilies: [IPv4, IPv6]\n  clusterIPs: [127.96.0.9, "
       "127.96.0.10]\n",
       "test.yaml:13:15: spec.clusterIPs: Invalid value: may specify no more than one IP for "
       "each IP family"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.spec);
    CHECK(only_error(on_cluster(
              kDual, "  ports: [{port: 80}]\n  ipFamilyPolicy: PreferDualStack\n" + c.spec)) ==
          c.error);
  }
  CHECK(only_error(on_cluster(kDual,
                              "  ports: [{port: 80}]\n  clusterIP: 127.96.0.9\n"
                              "  ipFamilies: [IPv6]\n")) ==
        "test.yaml:10:14: spec.clusterIPs[0]: Invalid value: \"127.96.0.9\": expected an IPv6 "
        "value as indicated by `ipFamilies[0]`");
}

// initIPFamilyFields: SingleStack with two cluster IPs or two families.
TEST_CASE("SingleStack with two ClusterIPs is refused") {
  CHECK(only_error(on_cluster(kDual,
                              "  ports: [{port: 80}]\n  ipFamilyPolicy: SingleStack\n"
                              "  clusterIP: 127.96.0.9\n  clusterIPs: [127.96.0.9, "
                              "'fd00:10:96::9']\n")) ==
        "test.yaml:10:19: spec.ipFamilyPolicy: Invalid value: \"SingleStack\": must be "
        "'RequireDualStack' or 'PreferDualStack' when multiple cluster IPs are specified");
}

// initIPFamilyFields' special case: headless and selectorless defaults to RequireDualStack
// and both families, even on a single-stack cluster; headless stays without ClusterIPs.
TEST_CASE("headless Services stay headless") {
  const Service bare = only_service(on_cluster(kV6, "  clusterIP: None\n  ports: [{port: 80}]\n"));
  CHECK(bare.headless);
  CHECK(bare.cluster_ip.empty());
  CHECK(bare.secondary_cluster_ip.empty());
  CHECK(cluster_ips(bare) == std::vector<std::string>{"None"});
  CHECK(settled(bare, kV6).policy == IpFamilyPolicy::RequireDualStack);
  CHECK(settled(bare, kV6).families == std::vector<IpFamily>{IpFamily::IPv6, IpFamily::IPv4});
  const Service selecting = only_service(
      on_cluster(kDual, "  clusterIP: None\n  selector: {app: web}\n  ports: [{port: 80}]\n"));
  CHECK(selecting.cluster_ip.empty());
  CHECK(settled(selecting, kDual).policy == IpFamilyPolicy::SingleStack);
  CHECK(settled(selecting, kDual).families == kV4Only);
}

// ipallocator.New: an IPv6 range's addresses are the 65535 after the network address at most;
// automatic ones avoid the low band (calculateRangeOffset), as IPv4's.
TEST_CASE("automatic IPv6 ClusterIPs come from the upper band of the first 65536") {
  ServiceList services;
  for (int i = 0; i < 30; ++i) {
    Service service;
    service.name = "s";
    service.name += std::to_string(i);  // appended: GCC 12 -O3 warns on operator+ here
    service.ports.push_back({});
    services.push_back(service);
  }
  const ServiceCidr cidr = std::get<ServiceCidr>(parse_service_cidr("fd00:10:96::/108"));
  Diagnostics errors;
  allocate_cluster_ips(services, cidr, errors);
  CHECK(errors.empty());
  const IpCidr& range = cidr.ranges[0];
  for (const auto& service : services) {
    const auto offset = range.offset_of(service.cluster_ip);
    REQUIRE(offset);
    CHECK(*offset > 256);
    CHECK(*offset < 65536);
  }
}

}  // namespace
}  // namespace svcproxy::conf

#include "conf/addresses.hpp"

#include <doctest/doctest.h>

namespace svcproxy::conf {
namespace {

TEST_CASE("IP addresses") {
  CHECK(is_ipv4("127.0.1.1"));
  CHECK(is_ipv6("::1"));
  CHECK(is_ip("fd00::10"));
  for (const char* bad : {"", "127.0.1", "256.0.0.1", "1.2.3.4.5", "01.2.3.4x", "localhost", "::g"})
    CHECK_FALSE(is_ip(bad));
  CHECK(format_ipv4(*parse_ipv4("10.1.2.3")) == "10.1.2.3");
}

TEST_CASE("IPv4 CIDRs") {
  const auto cidr = parse_ipv4_cidr("127.96.0.0/12");
  REQUIRE(cidr);
  CHECK(cidr->size() == (1u << 20));
  CHECK(format_ipv4(cidr->broadcast()) == "127.111.255.255");
  CHECK(cidr->contains(*parse_ipv4("127.100.0.1")));
  CHECK_FALSE(cidr->contains(*parse_ipv4("127.112.0.0")));
  CHECK(parse_ipv4_cidr("0.0.0.0/0"));
  for (const char* bad : {"127.96.0.1/12", "127.96.0.0", "127.96.0.0/33", "127.96.0.0/", "::/0"})
    CHECK_FALSE(parse_ipv4_cidr(bad));
}

TEST_CASE("CIDRs of either family: offsets from the network address") {
  const auto v6 = parse_ip_cidr("fd00:10:96::/112");
  REQUIRE(v6);
  CHECK(v6->family == IpFamily::IPv6);
  CHECK(v6->host_bits() == 16);
  CHECK(v6->to_string() == "fd00:10:96::/112");
  CHECK(v6->address_at(0xa) == "fd00:10:96::a");
  CHECK(v6->offset_of("fd00:10:96::ffff") == 0xffff);
  CHECK(v6->offset_of("FD00:10:96:0::1") == 1);  // any spelling of the address
  CHECK_FALSE(v6->offset_of("fd00:10:97::1"));
  CHECK_FALSE(v6->offset_of("10.96.0.1"));
  const auto v4 = parse_ip_cidr("10.96.0.0/16");
  REQUIRE(v4);
  CHECK(v4->address_at(0x0102) == "10.96.1.2");
  CHECK(v4->offset_of("10.96.255.255") == 0xffff);
  CHECK_FALSE(v4->offset_of("10.95.255.255"));
  CHECK_FALSE(v4->offset_of("fd00::1"));
  CHECK(parse_ip_cidr("::/0"));
  for (const char* bad : {"fd00::1/112", "fd00::/129", "fd00::", "10.96.0.1/16", "x/8"})
    CHECK_FALSE(parse_ip_cidr(bad));
}

// kube-apiserver's --service-cluster-ip-range (validateClusterIPFlags): one CIDR, or two of
// different families; the first is the primary family.
TEST_CASE("serviceCIDR: one range or two of different families") {
  const auto dual = parse_service_cidr("127.96.0.0/12,fd00:10:96::/112");
  const auto* ranges = std::get_if<ServiceCidr>(&dual);
  REQUIRE(ranges);
  CHECK(ranges->dual_stack());
  CHECK(ranges->primary() == IpFamily::IPv4);
  REQUIRE(ranges->range_of(IpFamily::IPv6));
  CHECK(ranges->range_of(IpFamily::IPv6)->to_string() == "fd00:10:96::/112");
  const auto v6 = parse_service_cidr("fd00:10:96::/108");
  REQUIRE(std::holds_alternative<ServiceCidr>(v6));
  CHECK(std::get<ServiceCidr>(v6).primary() == IpFamily::IPv6);
  CHECK_FALSE(std::get<ServiceCidr>(v6).range_of(IpFamily::IPv4));
  for (const char* bad : {"fd00::/107", "10.0.0.0/8,10.1.0.0/16", "10.0.0.0/8, fd00::/112",
                          "10.0.0.0/8,fd00::/112,10.1.0.0/16", ""})
    CHECK(std::holds_alternative<std::string>(parse_service_cidr(bad)));
}

TEST_CASE("port ranges") {
  const auto range = parse_port_range("30000-32767");
  REQUIRE(range);
  CHECK(range->size() == 2768);
  CHECK(parse_port_range("80-80"));
  for (const char* bad : {"", "30000", "32767-30000", "0-10", "1-65536", "a-b", "-1-5"})
    CHECK_FALSE(parse_port_range(bad));
}

TEST_CASE("host:port") {
  auto parsed = parse_host_port("127.0.0.1:10249", false);
  REQUIRE(parsed);
  CHECK(parsed->host == "127.0.0.1");
  CHECK(parsed->port == 10249);
  CHECK(parse_host_port("[::1]:53", false)->host == "::1");
  CHECK(parse_host_port("localhost:80", false));
  CHECK(parse_host_port("::1", true)->port == 0);
  CHECK(parse_host_port("10.0.0.1", true)->port == 0);
  for (const char* bad : {"127.0.0.1", "127.0.0.1:0", "127.0.0.1:70000", ":80", "a b:80", "[::1]"})
    CHECK_FALSE(parse_host_port(bad, false));
}

}  // namespace
}  // namespace svcproxy::conf

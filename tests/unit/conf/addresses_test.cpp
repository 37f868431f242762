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

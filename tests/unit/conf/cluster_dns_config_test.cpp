// ProxyConfig `dns` (issue 19): the cluster DNS server's settings.
#include <doctest/doctest.h>

#include "conf_test_support.hpp"

namespace svcproxy::conf {
namespace {

using testing::load_ok;
using testing::only_error;

std::string with_dns(const std::string& dns) {
  return "apiVersion: svcproxy.io/v1\nkind: ProxyConfig\nspec:\n  dns:\n" + dns;
}

}  // namespace

TEST_CASE("dns: absent means no server; present, every field has a default") {
  CHECK_FALSE(load_ok("").proxy.dns.enabled);
  const ClusterDns dns = load_ok(with_dns("    {}\n")).proxy.dns;
  CHECK(dns.enabled);
  CHECK(dns.address == "127.0.0.53:53");
  CHECK(dns.domain == "cluster.local");
  CHECK(dns.ttl == std::chrono::seconds(5));
  CHECK(dns.udp_payload_size == 1232);
  CHECK(dns.max_tcp_connections == 128);
  CHECK(dns.tcp_idle_timeout == std::chrono::seconds(10));
}

TEST_CASE("dns: every field is read; the domain is lowered, its trailing dot dropped") {
  const ClusterDns dns = load_ok(with_dns(R"(    address: 127.0.0.1:5353
    domain: Corp.Internal.
    ttl: 30s
    udpPayloadSize: 4096
    maxTcpConnections: 8
    tcpIdleTimeout: 2s
)"))
                             .proxy.dns;
  CHECK(dns.address == "127.0.0.1:5353");
  CHECK(dns.domain == "corp.internal");
  CHECK(dns.ttl == std::chrono::seconds(30));
  CHECK(dns.udp_payload_size == 4096);
  CHECK(dns.max_tcp_connections == 8);
  CHECK(dns.tcp_idle_timeout == std::chrono::seconds(2));
  CHECK(load_ok(with_dns("    ttl: 0s\n")).proxy.dns.ttl == std::chrono::seconds(0));
}

TEST_CASE("dns: invalid values are errors at their field") {
  CHECK(only_error(with_dns("    address: localhost:53\n")) ==
        "test.yaml:5:14: spec.dns.address: \"localhost:53\" is not ip:port");
  CHECK(only_error(with_dns("    address: 127.0.0.1\n")) ==
        "test.yaml:5:14: spec.dns.address: \"127.0.0.1\" is not host:port");
  CHECK(only_error(with_dns("    domain: 'bad_domain'\n")) ==
        "test.yaml:5:13: spec.dns.domain: \"bad_domain\" is not a DNS domain like cluster.local");
  CHECK(only_error(with_dns("    domain: 'a..b'\n")).find("is not a DNS domain") !=
        std::string::npos);
  CHECK(only_error(with_dns("    udpPayloadSize: 100\n")).find("spec.dns.udpPayloadSize") !=
        std::string::npos);
  CHECK(only_error(with_dns("    maxTcpConnections: 0\n")).find("spec.dns.maxTcpConnections") !=
        std::string::npos);
  CHECK(only_error(with_dns("    tcpIdleTimeout: 0s\n")).find("must be a positive duration") !=
        std::string::npos);
}

}  // namespace svcproxy::conf

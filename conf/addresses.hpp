// Textual network addresses in the configuration: IPs, CIDRs, host:port, port ranges.
// Only syntax; nothing here resolves or binds.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "conf/model.hpp"

namespace svcproxy::conf {

bool is_ipv4(std::string_view text);
bool is_ipv6(std::string_view text);
inline bool is_ip(std::string_view text) {
  return is_ipv4(text) || is_ipv6(text);
}

// An IPv4 address as a host-order number.
std::optional<std::uint32_t> parse_ipv4(std::string_view text);
std::string format_ipv4(std::uint32_t address);

struct Ipv4Cidr {
  std::uint32_t network = 0;  // host order, host bits zero
  int prefix_length = 0;

  std::uint64_t size() const { return std::uint64_t{1} << (32 - prefix_length); }
  std::uint32_t broadcast() const { return network + static_cast<std::uint32_t>(size() - 1); }
  bool contains(std::uint32_t address) const { return address - network < size(); }
};

// "a.b.c.d/n" with no host bits set, as Kubernetes requires of serviceCIDR.
std::optional<Ipv4Cidr> parse_ipv4_cidr(std::string_view text);

// The family of an IP address; none when `text` is not one.
std::optional<IpFamily> ip_family_of(std::string_view text);

// An IPv4 or IPv6 CIDR with no host bits set: one range of serviceCIDR.
struct IpCidr {
  IpFamily family = IpFamily::IPv4;
  std::array<std::uint8_t, 16> network{};  // network byte order; IPv4 in the first 4 bytes
  int prefix_length = 0;

  int host_bits() const { return (family == IpFamily::IPv4 ? 32 : 128) - prefix_length; }
  // How far `ip` is from the network address; none for another family, an address outside
  // the range, or one 2^64 or more away (ranges that large are never allocated from).
  std::optional<std::uint64_t> offset_of(std::string_view ip) const;
  std::string address_at(std::uint64_t offset) const;  // as inet_ntop writes it
  std::string to_string() const;                       // "fd00:10:96::/112"
};

// "a.b.c.d/n" or "v6/n", no host bits set.
std::optional<IpCidr> parse_ip_cidr(std::string_view text);

// ProxyConfig serviceCIDR, read as kube-apiserver reads --service-cluster-ip-range: one
// CIDR, or two of different families, comma-separated; the first is the cluster's primary
// family (what a SingleStack Service gets).
struct ServiceCidr {
  std::vector<IpCidr> ranges;  // one or two, primary first

  IpFamily primary() const { return ranges.front().family; }
  bool dual_stack() const { return ranges.size() == 2; }
  const IpCidr* range_of(IpFamily family) const;
};

// The ranges, or what is wrong with `text` (a message without the text itself).
std::variant<ServiceCidr, std::string> parse_service_cidr(std::string_view text);

// "30000-32767": two ports in 1-65535, first <= last.
std::optional<PortRange> parse_port_range(std::string_view text);

struct HostPort {
  std::string host;  // without brackets for IPv6
  int port = 0;      // 0 when the text had no port
};

// "host:port", "[v6]:port"; with `port_optional` also "host" and a bare IPv6 address.
// The host must be an IP address or a DNS name; the port 1-65535.
std::optional<HostPort> parse_host_port(std::string_view text, bool port_optional);

// A port number written as text: digits only, 1-65535.
std::optional<int> parse_port_text(std::string_view text);

}  // namespace svcproxy::conf

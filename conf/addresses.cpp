#include "conf/addresses.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

#include "conf/names.hpp"

namespace svcproxy::conf {
namespace {

std::optional<int> parse_small_number(std::string_view text, int max) {
  if (text.empty() || text.size() > 5 || (text.size() > 1 && text[0] == '0')) return std::nullopt;
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value > max) return std::nullopt;
  return value;
}

// Hostnames are checked leniently in case: "Localhost" resolves as well as "localhost".
bool is_host_name(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return is_dns1123_subdomain(lower);
}

bool is_host(std::string_view text) {
  return is_ip(text) || is_host_name(text);
}

using Bytes = std::array<std::uint8_t, 16>;
using Uint128 = unsigned __int128;  // GCC and Clang: the arithmetic of one IPv6 address

std::optional<Bytes> address_bytes(std::string_view text, IpFamily family) {
  Bytes bytes{};
  const int af = family == IpFamily::IPv4 ? AF_INET : AF_INET6;
  if (inet_pton(af, std::string(text).c_str(), bytes.data()) != 1) return std::nullopt;
  return bytes;
}

int byte_count(IpFamily family) {
  return family == IpFamily::IPv4 ? 4 : 16;
}

Uint128 to_number(const Bytes& bytes, IpFamily family) {
  Uint128 value = 0;
  for (int i = 0; i < byte_count(family); ++i)
    value = (value << 8) | bytes[i];
  return value;
}

Bytes to_bytes(Uint128 value, IpFamily family) {
  Bytes bytes{};
  for (int i = byte_count(family) - 1; i >= 0; --i, value >>= 8)
    bytes[i] = static_cast<std::uint8_t>(value & 0xff);
  return bytes;
}

std::string format_bytes(const Bytes& bytes, IpFamily family) {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(family == IpFamily::IPv4 ? AF_INET : AF_INET6, bytes.data(), text, sizeof text);
  return text;
}

// The host part of a number of `host_bits` bits (up to 128).
Uint128 host_mask(int host_bits) {
  return host_bits >= 128 ? ~Uint128{0} : (Uint128{1} << host_bits) - 1;
}

const char* const kCidrExample = "like 127.96.0.0/12 or fd00:10:96::/112, no host bits";

// One range of serviceCIDR against kube-apiserver's limits: at most 20 host bits for IPv6
// (validateMaxCIDRRange's maxCIDRBits), and room for two Services (IPv4: at most /30).
// Appended, not `"\"" + std::string(...)`: GCC 12 at -O3 warns falsely (-Wrestrict) there.
std::string quote_text(std::string_view text) {
  std::string out(1, '"');
  out.append(text);
  out.push_back('"');
  return out;
}

std::optional<std::string> service_range_problem(std::string_view entry,
                                                 const std::optional<IpCidr>& cidr) {
  const std::string quoted = quote_text(entry);
  if (!cidr) return quoted + " is not a CIDR (" + kCidrExample + ")";
  const bool v4 = cidr->family == IpFamily::IPv4;
  if (cidr->host_bits() < 2)
    return quoted + " is too small: at most " + (v4 ? "/30" : "/126") +
           ", to leave service addresses";
  if (!v4 && cidr->host_bits() > 20)
    return quoted +
           " is too large; for 128-bit addresses, the mask must be >= 108 (kube-apiserver's "
           "limit on a service range)";
  return std::nullopt;
}

}  // namespace

bool is_ipv4(std::string_view text) {
  return parse_ipv4(text).has_value();
}

bool is_ipv6(std::string_view text) {
  in6_addr address{};
  return inet_pton(AF_INET6, std::string(text).c_str(), &address) == 1;
}

std::optional<std::uint32_t> parse_ipv4(std::string_view text) {
  in_addr address{};
  // inet_pton accepts only the strict dotted-quad form, unlike inet_aton.
  if (inet_pton(AF_INET, std::string(text).c_str(), &address) != 1) return std::nullopt;
  return ntohl(address.s_addr);
}

std::string format_ipv4(std::uint32_t address) {
  return std::to_string(address >> 24) + "." + std::to_string((address >> 16) & 0xff) + "." +
         std::to_string((address >> 8) & 0xff) + "." + std::to_string(address & 0xff);
}

std::optional<Ipv4Cidr> parse_ipv4_cidr(std::string_view text) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto address = parse_ipv4(text.substr(0, slash));
  auto prefix = parse_small_number(text.substr(slash + 1), 32);
  if (!address || !prefix) return std::nullopt;
  Ipv4Cidr cidr{*address, *prefix};
  const std::uint32_t host_mask = static_cast<std::uint32_t>(cidr.size() - 1);
  if ((*address & host_mask) != 0) return std::nullopt;
  return cidr;
}

std::optional<IpFamily> ip_family_of(std::string_view text) {
  if (is_ipv4(text)) return IpFamily::IPv4;
  if (is_ipv6(text)) return IpFamily::IPv6;
  return std::nullopt;
}

std::optional<std::uint64_t> IpCidr::offset_of(std::string_view ip) const {
  const auto bytes = address_bytes(ip, family);
  if (!bytes) return std::nullopt;
  const Uint128 address = to_number(*bytes, family);
  const Uint128 offset = address - to_number(network, family);
  if (offset > host_mask(host_bits()) || offset > ~std::uint64_t{0}) return std::nullopt;
  return static_cast<std::uint64_t>(offset);
}

std::string IpCidr::address_at(std::uint64_t offset) const {
  return format_bytes(to_bytes(to_number(network, family) + offset, family), family);
}

std::string IpCidr::to_string() const {
  return format_bytes(network, family) + "/" + std::to_string(prefix_length);
}

std::optional<IpCidr> parse_ip_cidr(std::string_view text) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const auto family = ip_family_of(text.substr(0, slash));
  if (!family) return std::nullopt;
  const auto prefix =
      parse_small_number(text.substr(slash + 1), *family == IpFamily::IPv4 ? 32 : 128);
  if (!prefix) return std::nullopt;
  IpCidr cidr{*family, *address_bytes(text.substr(0, slash), *family), *prefix};
  if ((to_number(cidr.network, *family) & host_mask(cidr.host_bits())) != 0) return std::nullopt;
  return cidr;
}

const IpCidr* ServiceCidr::range_of(IpFamily family) const {
  for (const auto& range : ranges)
    if (range.family == family) return &range;
  return nullptr;
}

std::variant<ServiceCidr, std::string> parse_service_cidr(std::string_view text) {
  const std::string quoted = quote_text(text);
  ServiceCidr cidr;
  std::size_t start = 0;
  for (;;) {
    const auto comma = text.find(',', start);
    const std::string_view entry = text.substr(start, comma - start);
    const auto range = parse_ip_cidr(entry);
    if (auto problem = service_range_problem(entry, range)) return *problem;
    cidr.ranges.push_back(*range);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  if (cidr.ranges.size() > 2)
    return quoted + " must not contain more than two entries (one per IP family)";
  if (cidr.dual_stack() && cidr.ranges[0].family == cidr.ranges[1].family)
    return quoted + ": serviceCIDR[0] and serviceCIDR[1] must be of different IP family";
  return cidr;
}

std::optional<PortRange> parse_port_range(std::string_view text) {
  const auto dash = text.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  auto first = parse_port_text(text.substr(0, dash));
  auto last = parse_port_text(text.substr(dash + 1));
  if (!first || !last || *first > *last) return std::nullopt;
  return PortRange{*first, *last};
}

std::optional<int> parse_port_text(std::string_view text) {
  auto port = parse_small_number(text, 65535);
  if (!port || *port == 0) return std::nullopt;
  return port;
}

std::optional<HostPort> parse_host_port(std::string_view text, bool port_optional) {
  if (port_optional && is_ip(text)) return HostPort{std::string(text), 0};
  std::string_view host = text;
  std::string_view port_text;
  if (text.starts_with('[')) {
    const auto close = text.find("]:");
    if (close == std::string_view::npos) return std::nullopt;
    host = text.substr(1, close - 1);
    if (!is_ipv6(host)) return std::nullopt;
    port_text = text.substr(close + 2);
  } else if (const auto colon = text.rfind(':'); colon != std::string_view::npos) {
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  } else if (!port_optional) {
    return std::nullopt;
  }
  if (!is_host(host)) return std::nullopt;
  if (port_text.empty() && port_optional) return HostPort{std::string(host), 0};
  auto port = parse_port_text(port_text);
  if (!port) return std::nullopt;
  return HostPort{std::string(host), *port};
}

}  // namespace svcproxy::conf

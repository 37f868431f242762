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

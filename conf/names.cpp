#include "conf/names.hpp"

#include <algorithm>

namespace svcproxy::conf {
namespace {

bool is_lower_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool is_lower_alnum_or_dash(char c) {
  return is_lower_alnum(c) || c == '-';
}

}  // namespace

bool is_dns1123_label(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  if (!is_lower_alnum(name.front()) || !is_lower_alnum(name.back())) return false;
  return std::all_of(name.begin(), name.end(), is_lower_alnum_or_dash);
}

bool is_dns1035_label(std::string_view name) {
  return is_dns1123_label(name) && name.front() >= 'a' && name.front() <= 'z';
}

bool is_dns1123_subdomain(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = name.find('.', start);
    if (!is_dns1123_label(name.substr(start, dot - start))) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

bool is_iana_service_name(std::string_view name) {
  if (name.empty() || name.size() > 15) return false;
  if (!std::all_of(name.begin(), name.end(), is_lower_alnum_or_dash)) return false;
  if (name.front() == '-' || name.back() == '-' || name.find("--") != std::string_view::npos)
    return false;
  return std::any_of(name.begin(), name.end(), [](char c) { return c >= 'a' && c <= 'z'; });
}

}  // namespace svcproxy::conf

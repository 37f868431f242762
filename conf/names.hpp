// Kubernetes' name rules (apimachinery validation), used for object and port names.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace svcproxy::conf {

// RFC 1123 label: lowercase alphanumerics and '-', starting and ending alphanumeric, <= 63.
bool is_dns1123_label(std::string_view name);

// RFC 1035 label: an RFC 1123 label that starts with a letter (Service names).
bool is_dns1035_label(std::string_view name);

// RFC 1123 subdomain: dot-separated RFC 1123 labels, <= 253 (Pod, Deployment, Secret names).
bool is_dns1123_subdomain(std::string_view name);

// IANA service name: <= 15 chars, lowercase alphanumerics and '-', at least one letter, no
// leading, trailing or doubled '-' (container port names and named targetPorts).
bool is_iana_service_name(std::string_view name);

// Kubernetes' IsQualifiedName (label keys, appProtocol): an optional DNS subdomain prefix and
// '/', then a name of <= 63 alphanumerics, '-', '_' and '.', alphanumeric at both ends. The
// messages are Kubernetes' own, so they read the same as kubectl's; none when valid.
std::vector<std::string> qualified_name_errors(std::string_view value);

// Kubernetes' IsDNS1123Subdomain, its messages; none when valid.
std::vector<std::string> dns1123_subdomain_errors(std::string_view value);

// Kubernetes' IsValidLabelValue: empty, or a qualified name's name part; its messages.
std::vector<std::string> label_value_errors(std::string_view value);

}  // namespace svcproxy::conf

// One parse function per kind (parse_<kind>.cpp). Each reads one document's fields into the
// model, reports every problem it can see in that document alone, and returns what it
// could read; cross-document rules (duplicates, inheritance, allocation) come later.
// Internal to conf/.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "conf/model.hpp"
#include "conf/yaml_reader.hpp"

namespace svcproxy::conf {

enum class NameRule { Dns1035Label, Dns1123Label, Dns1123Subdomain };

struct Metadata {
  std::string name;
  std::string namespace_name = "default";
  Labels labels;
  Labels annotations;
  std::string created;  // RFC 3339
};

// metadata.{name,namespace,labels,annotations,creationTimestamp}; the name is required and
// checked. Without a creationTimestamp (a file: Kubernetes sets it, users do not), the
// object was created when this text of it was first read.
Metadata parse_metadata(YamlReader& reader, const Field& document, NameRule rule);

// A container of a Pod or a Deployment template: name, ports, readinessProbe.
Container parse_container(YamlReader& reader, const Field& field);
// A `containers` list, with container port names unique across the pod as Kubernetes wants.
std::vector<Container> parse_containers(YamlReader& reader, const Field& field);

Service parse_service(YamlReader& reader, const Field& document);
Pod parse_pod(YamlReader& reader, const Field& document);
Deployment parse_deployment(YamlReader& reader, const Field& document);
// nullopt for a Secret of another type than kubernetes.io/tls (skipped with a warning).
std::optional<TlsSecret> parse_secret(YamlReader& reader, const Field& document);
ProxySettings parse_proxy_config(YamlReader& reader, const Field& document);

std::string lowercase(std::string text);  // ASCII

// "None" and "ClientIP" style enumerations: the value's index in `allowed`, or nullopt
// (reported as "unknown WHAT \"x\" (expected A, B or C)").
std::optional<std::size_t> parse_choice(YamlReader& reader, const Field& field, const char* what,
                                        const std::vector<std::string>& allowed,
                                        bool ignore_case = false);

}  // namespace svcproxy::conf

#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>

#include "conf/names.hpp"
#include "conf/parsers.hpp"

namespace svcproxy::conf {

std::string lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

namespace {

std::string expected_list(const std::vector<std::string>& allowed) {
  std::string text;
  for (std::size_t i = 0; i < allowed.size(); ++i) {
    if (i > 0) text += i + 1 == allowed.size() ? " or " : ", ";
    text += allowed[i];
  }
  return text;
}

void check_name(YamlReader& reader, const Field& field, const std::string& name, NameRule rule) {
  if (rule == NameRule::Dns1035Label && !is_dns1035_label(name)) {
    reader.error(field, "\"" + name + "\" is not a valid name: a DNS label (RFC 1035) is " +
                            "lowercase letters, digits and '-', starts with a letter, ends " +
                            "with a letter or digit, at most 63 characters");
  } else if (rule == NameRule::Dns1123Label && !is_dns1123_label(name)) {
    reader.error(field, "\"" + name + "\" is not a valid name: a DNS label (RFC 1123) is " +
                            "lowercase letters, digits and '-', starts and ends with a letter " +
                            "or digit, at most 63 characters");
  } else if (rule == NameRule::Dns1123Subdomain && !is_dns1123_subdomain(name)) {
    reader.error(field, "\"" + name + "\" is not a valid name: a DNS subdomain (RFC 1123) " +
                            "is dot-separated lowercase labels of letters, digits and '-', " +
                            "at most 253 characters");
  }
}

std::string rfc3339_now() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

}  // namespace

Metadata parse_metadata(YamlReader& reader, const Field& document, NameRule rule) {
  Metadata metadata;
  const Field field = document.child("metadata");
  const Field name = field.child("name");
  if (reader.require(name)) {
    metadata.name = reader.string(name).value_or("");
    if (!metadata.name.empty()) check_name(reader, name, metadata.name, rule);
  }
  const Field namespace_field = field.child("namespace");
  if (auto namespace_name = reader.string(namespace_field)) {
    if (is_dns1123_label(*namespace_name)) {
      metadata.namespace_name = *namespace_name;
    } else {
      reader.error(namespace_field, "\"" + *namespace_name + "\" is not a valid namespace " +
                                        "(a lowercase DNS label, at most 63 characters)");
    }
  }
  metadata.labels = reader.labels(field.child("labels"));
  metadata.annotations = reader.string_map(field.child("annotations"));
  const Field created = field.child("creationTimestamp");
  metadata.created = created.present() && created.node.is_scalar() ? created.node.scalar() : "";
  if (metadata.created.empty()) metadata.created = rfc3339_now();
  return metadata;
}

std::optional<std::size_t> parse_choice(YamlReader& reader, const Field& field, const char* what,
                                        const std::vector<std::string>& allowed, bool ignore_case) {
  auto value = reader.string(field);
  if (!value) return std::nullopt;
  for (std::size_t i = 0; i < allowed.size(); ++i) {
    const bool same =
        ignore_case ? lowercase(*value) == lowercase(allowed[i]) : *value == allowed[i];
    if (same) return i;
  }
  reader.error(field, std::string("unknown ") + what + " \"" + *value + "\" (expected " +
                          expected_list(allowed) + ")");
  return std::nullopt;
}

}  // namespace svcproxy::conf

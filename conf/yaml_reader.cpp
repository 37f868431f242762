#include "conf/yaml_reader.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <limits>

#include "conf/duration.hpp"
#include "conf/names.hpp"

namespace svcproxy::conf {
namespace {

std::string join_path(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

// yaml-cpp's own conversion of a scalar's text, so "0x1F", " 8" or "yes" mean what they
// meant when fields were YAML::Nodes. One node per thread, re-assigned: building a node
// per conversion costs several allocations.
template <typename T>
bool decode(const YamlNode& scalar, T& value) {
  thread_local YAML::Node text;
  text = scalar.scalar();
  return YAML::convert<T>::decode(text, value);
}

// A plain scalar YAML 1.1 resolves to a float, as the YAML library under kubectl
// (go-yaml v2: yamlStyleFloat, and .inf/.nan) does: "1.5", "1e3", ".5", "-.inf".
bool is_yaml_float(std::string_view text) {
  for (std::string_view special : {".inf", ".Inf", ".INF", ".nan", ".NaN", ".NAN"})
    if (text == special ||
        (text.size() == special.size() + 1 && (text[0] == '+' || text[0] == '-') &&
         text.substr(1) == special && special[1] != 'n' && special[1] != 'N'))
      return true;
  std::size_t i = 0;
  const auto digits = [&] {
    const std::size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9')
      ++i;
    return i - start;
  };
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
  if (i < text.size() && text[i] == '.') {
    ++i;
    if (digits() == 0) return false;
  } else {
    if (digits() == 0) return false;
    if (i < text.size() && text[i] == '.') {
      ++i;
      digits();
    }
  }
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
    if (digits() == 0) return false;
  }
  return i == text.size();
}

}  // namespace

Field Field::child(const std::string& key) const {
  Field result{YamlNode(), join_path(path, key), mark};
  const YamlNode found = node.child(key);
  if (!found.is_null()) {
    result.node = found;
    result.mark = found.mark();
  }
  return result;
}

Field Field::item(std::size_t index) const {
  Field result{YamlNode(), path + "[" + std::to_string(index) + "]", mark};
  if (!node.is_sequence() || index >= node.size()) return result;
  result.node = node.item(index);
  result.mark = result.node.mark();
  return result;
}

Field document_field(const YamlNode& document) {
  return {document, "", document.mark()};
}

YamlReader::YamlReader(std::string file, Diagnostics& errors, Diagnostics& warnings)
    : file_(std::move(file)), errors_(errors), warnings_(warnings) {}

SourceLocation YamlReader::location(const YAML::Mark& mark) const {
  // yaml-cpp counts from 0 and uses -1 for "unknown"; diagnostics count from 1.
  return {file_, std::max(0, mark.line) + line_offset_ + 1, std::max(0, mark.column) + 1};
}

SourceLocation YamlReader::location(const Field& field) const {
  return location(field.mark);
}

void YamlReader::error(const Field& field, std::string message) {
  errors_.push_back({location(field), field.path, std::move(message), object_});
}

void YamlReader::warning(const Field& field, std::string message) {
  warnings_.push_back({location(field), field.path, std::move(message)});
}

bool YamlReader::expect(const Field& field, YamlNode::Type type, const char* what) {
  if (!field.present()) return false;
  if (field.node.type() == type) return true;
  error(field, std::string("expected ") + what);
  return false;
}

std::optional<std::string> YamlReader::string(const Field& field) {
  if (!expect(field, YamlNode::Type::Scalar, "a string")) return std::nullopt;
  return field.node.scalar();
}

std::optional<std::int64_t> YamlReader::integer(const Field& field) {
  if (!expect(field, YamlNode::Type::Scalar, "an integer")) return std::nullopt;
  long long value = 0;
  if (field.node.is_quoted() || !decode(field.node, value)) {
    error(field, "expected an integer, got \"" + field.node.scalar() + "\"");
    return std::nullopt;
  }
  return value;
}

std::optional<bool> YamlReader::boolean(const Field& field) {
  if (!expect(field, YamlNode::Type::Scalar, "a boolean")) return std::nullopt;
  bool value = false;
  if (field.node.is_quoted() || !decode(field.node, value)) {
    error(field, "expected true or false, got \"" + field.node.scalar() + "\"");
    return std::nullopt;
  }
  return value;
}

std::optional<Duration> YamlReader::duration(const Field& field) {
  auto text = string(field);
  if (!text) return std::nullopt;
  auto parsed = parse_duration(*text);
  if (!parsed) error(field, "invalid duration \"" + *text + "\" (examples: 500ms, 2s, 5m, 1m30s)");
  return parsed;
}

std::optional<int> YamlReader::integer_in(const Field& field, int min, int max) {
  auto value = integer(field);
  if (!value) return std::nullopt;
  if (*value < min || *value > max) {
    // Kubernetes' wording (field.Invalid with validation.InclusiveRangeError and
    // IsValidPortNum's messages), so a message reads the same as kubectl's.
    std::string message = "Invalid value: " + std::to_string(*value) + ": must be ";
    if (max == std::numeric_limits<int>::max())
      message += "greater than or equal to " + std::to_string(min);
    else
      message += "between " + std::to_string(min) + " and " + std::to_string(max) + ", inclusive";
    error(field, message);
    return std::nullopt;
  }
  return static_cast<int>(*value);
}

std::optional<PortRef> YamlReader::port_ref(const Field& field) {
  if (!expect(field, YamlNode::Type::Scalar, "a port number or name")) return std::nullopt;
  long long number = 0;
  if (!field.node.is_quoted() && decode(field.node, number)) {
    auto port = integer_in(field, 1, 65535);
    if (!port) return std::nullopt;
    return PortRef{*port, ""};
  }
  const std::string name = field.node.scalar();
  if (!is_iana_service_name(name)) {
    error(field, "\"" + name + "\" is neither a port number nor a valid port name " +
                     "(lowercase letters, digits and '-', at most 15 characters)");
    return std::nullopt;
  }
  return PortRef{0, name};
}

bool YamlReader::require(const Field& field) {
  if (field.present()) return true;
  error(field, "Required value");
  return false;
}

bool YamlReader::mapping(const Field& field) {
  return expect(field, YamlNode::Type::Map, "a mapping");
}

std::vector<Field> YamlReader::items(const Field& field) {
  std::vector<Field> result;
  if (!expect(field, YamlNode::Type::Sequence, "a list")) return result;
  for (std::size_t i = 0; i < field.node.size(); ++i)
    result.push_back(field.item(i));
  return result;
}

std::vector<std::pair<std::string, Field>> YamlReader::entries(const Field& field) {
  std::vector<std::pair<std::string, Field>> result;
  if (!mapping(field)) return result;
  for (std::size_t i = 0; i < field.node.size(); ++i) {
    const auto [key_node, value] = field.node.entry(i);
    const std::string& key = key_node.scalar();
    result.emplace_back(key, Field{value, join_path(field.path, key), key_node.mark()});
    if (!value.is_null()) result.back().second.mark = value.mark();
  }
  return result;
}

Labels YamlReader::string_map(const Field& field) {
  Labels result;
  for (const auto& [key, value] : entries(field)) {
    // Kubernetes stores label and annotation values as strings; an empty value is allowed.
    if (!value.present()) {
      result[key] = "";
      continue;
    }
    auto text = string(value);
    if (!text) continue;
    // Numbers and booleans: kubectl's YAML makes them JSON numbers and booleans, which a
    // map of strings refuses (manifest_json keeps a float as text to read it back exactly;
    // it is refused here all the same).
    long long integer = 0;
    bool boolean = false;
    if (!value.node.is_quoted() && (decode(value.node, integer) || decode(value.node, boolean) ||
                                    is_yaml_float(value.node.scalar()))) {
      error(value, "expected a string, got " + *text + " (a YAML " +
                       (decode(value.node, boolean) ? "boolean" : "number") +
                       ", which Kubernetes refuses here; quote it: \"" + *text + "\")");
      continue;
    }
    result[key] = std::move(*text);
  }
  return result;
}

Labels YamlReader::labels(const Field& field) {
  Labels result = string_map(field);
  if (!field.present() || field.node.type() != YamlNode::Type::Map) return result;  // reported
  for (const auto& [key, value] : entries(field)) {
    // Kubernetes reports these at the map's path; the line is the entry's.
    Field at_map = value;
    at_map.path = field.path;
    for (const std::string& problem : qualified_name_errors(key))
      error(at_map, "Invalid value: \"" + key + "\": " + problem);
    if (auto found = result.find(key); found != result.end())
      for (const std::string& problem : label_value_errors(found->second))
        error(at_map, "Invalid value: \"" + found->second + "\": " + problem);
  }
  return result;
}

}  // namespace svcproxy::conf

#include "conf/yaml_reader.hpp"

#include <algorithm>
#include <limits>

#include "conf/duration.hpp"
#include "conf/names.hpp"

namespace svcproxy::conf {
namespace {

std::string join_path(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

// yaml-cpp tags quoted scalars "!" and plain ones "?": "8080" in quotes is a string.
bool is_quoted(const YAML::Node& node) {
  return node.Tag() == "!";
}

}  // namespace

Field Field::child(const std::string& key) const {
  Field result{YAML::Node(), join_path(path, key), mark};
  if (!node.IsMap()) return result;
  const YAML::Node& self = node;  // const lookup never inserts the key
  YAML::Node found = self[key];
  if (found.IsDefined() && !found.IsNull()) {
    result.node = found;
    result.mark = found.Mark();
  }
  return result;
}

Field Field::item(std::size_t index) const {
  Field result{YAML::Node(), path + "[" + std::to_string(index) + "]", mark};
  if (!node.IsSequence() || index >= node.size()) return result;
  const YAML::Node& self = node;
  result.node = self[index];
  result.mark = result.node.Mark();
  return result;
}

Field document_field(const YAML::Node& document) {
  return {document, "", document.Mark()};
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
  errors_.push_back({location(field), field.path, std::move(message)});
}

void YamlReader::warning(const Field& field, std::string message) {
  warnings_.push_back({location(field), field.path, std::move(message)});
}

bool YamlReader::expect(const Field& field, YAML::NodeType::value type, const char* what) {
  if (!field.present()) return false;
  if (field.node.Type() == type) return true;
  error(field, std::string("expected ") + what);
  return false;
}

std::optional<std::string> YamlReader::string(const Field& field) {
  if (!expect(field, YAML::NodeType::Scalar, "a string")) return std::nullopt;
  return field.node.Scalar();
}

std::optional<std::int64_t> YamlReader::integer(const Field& field) {
  if (!expect(field, YAML::NodeType::Scalar, "an integer")) return std::nullopt;
  long long value = 0;
  if (is_quoted(field.node) || !YAML::convert<long long>::decode(field.node, value)) {
    error(field, "expected an integer, got \"" + field.node.Scalar() + "\"");
    return std::nullopt;
  }
  return value;
}

std::optional<bool> YamlReader::boolean(const Field& field) {
  if (!expect(field, YAML::NodeType::Scalar, "a boolean")) return std::nullopt;
  bool value = false;
  if (is_quoted(field.node) || !YAML::convert<bool>::decode(field.node, value)) {
    error(field, "expected true or false, got \"" + field.node.Scalar() + "\"");
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
    const std::string range =
        max == std::numeric_limits<int>::max()
            ? "at least " + std::to_string(min)
            : "between " + std::to_string(min) + " and " + std::to_string(max);
    error(field, "must be " + range + ", got " + std::to_string(*value));
    return std::nullopt;
  }
  return static_cast<int>(*value);
}

std::optional<PortRef> YamlReader::port_ref(const Field& field) {
  if (!expect(field, YAML::NodeType::Scalar, "a port number or name")) return std::nullopt;
  long long number = 0;
  if (!is_quoted(field.node) && YAML::convert<long long>::decode(field.node, number)) {
    auto port = integer_in(field, 1, 65535);
    if (!port) return std::nullopt;
    return PortRef{*port, ""};
  }
  const std::string name = field.node.Scalar();
  if (!is_iana_service_name(name)) {
    error(field, "\"" + name + "\" is neither a port number nor a valid port name " +
                     "(lowercase letters, digits and '-', at most 15 characters)");
    return std::nullopt;
  }
  return PortRef{0, name};
}

bool YamlReader::require(const Field& field) {
  if (field.present()) return true;
  error(field, "is required");
  return false;
}

bool YamlReader::mapping(const Field& field) {
  return expect(field, YAML::NodeType::Map, "a mapping");
}

std::vector<Field> YamlReader::items(const Field& field) {
  std::vector<Field> result;
  if (!expect(field, YAML::NodeType::Sequence, "a list")) return result;
  for (std::size_t i = 0; i < field.node.size(); ++i)
    result.push_back(field.item(i));
  return result;
}

std::vector<std::pair<std::string, Field>> YamlReader::entries(const Field& field) {
  std::vector<std::pair<std::string, Field>> result;
  if (!mapping(field)) return result;
  for (const auto& entry : field.node) {
    const std::string key = entry.first.Scalar();
    result.emplace_back(key, Field{entry.second, join_path(field.path, key), entry.first.Mark()});
    if (entry.second.IsDefined() && !entry.second.IsNull())
      result.back().second.mark = entry.second.Mark();
  }
  return result;
}

Labels YamlReader::string_map(const Field& field) {
  Labels result;
  for (const auto& [key, value] : entries(field)) {
    // Kubernetes stores label and annotation values as strings; an empty value is allowed.
    if (!value.present()) {
      result[key] = "";
    } else if (auto text = string(value)) {
      result[key] = *text;
    }
  }
  return result;
}

}  // namespace svcproxy::conf

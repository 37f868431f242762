// Reads typed fields out of a yaml-cpp document while tracking where each came from, so
// every problem becomes a Diagnostic "FILE:LINE:COL: spec.ports[1].targetPort: message".
// Internal to conf/; the parse_*.cpp files are its users.
#pragma once

#include <yaml-cpp/mark.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "conf/diagnostics.hpp"
#include "conf/model.hpp"
#include "conf/yaml_tree.hpp"

namespace svcproxy::conf {

// A node together with its field path and position. An absent field is a Null node that
// carries its parent's position, so "missing" diagnostics still point somewhere useful.
struct Field {
  YamlNode node;
  std::string path;
  YAML::Mark mark;

  bool present() const { return !node.is_null(); }
  Field child(const std::string& key) const;
  Field item(std::size_t index) const;
};

Field document_field(const YamlNode& document);

class YamlReader {
 public:
  YamlReader(std::string file, Diagnostics& errors, Diagnostics& warnings);

  const std::string& file() const { return file_; }
  // Lines before the text being parsed, when a stream is parsed one document at a time.
  void set_line_offset(int lines) { line_offset_ = lines; }
  SourceLocation location(const Field& field) const;
  SourceLocation location(const YAML::Mark& mark) const;
  // The object the next errors are about (`Service "web"`; Diagnostic::object).
  void set_object(std::string object) { object_ = std::move(object); }
  void error(const Field& field, std::string message);
  void warning(const Field& field, std::string message);
  std::size_t error_count() const { return errors_.size(); }

  // Typed scalars: nullopt when absent, or when of the wrong type (reported).
  std::optional<std::string> string(const Field& field);
  std::optional<std::int64_t> integer(const Field& field);
  std::optional<bool> boolean(const Field& field);
  std::optional<Duration> duration(const Field& field);
  // An integer checked against [min, max]; out-of-range values are reported.
  std::optional<int> integer_in(const Field& field, int min, int max);
  // A port written as a number (1-65535) or a name (IANA service name), like IntOrString.
  std::optional<PortRef> port_ref(const Field& field);
  // A required field: reports "is required" when absent.
  bool require(const Field& field);

  // Containers: false/empty when absent, or when of the wrong type (reported).
  bool mapping(const Field& field);
  std::vector<Field> items(const Field& field);
  std::vector<std::pair<std::string, Field>> entries(const Field& field);
  // A map of strings (annotations; Kubernetes' map[string]string): a plain number or
  // boolean is an error, as the API server's decoding refuses it.
  Labels string_map(const Field& field);
  // Labels or a label selector: a string map whose keys and values are checked as
  // Kubernetes' ValidateLabels does, errors at the map's path with its messages.
  Labels labels(const Field& field);

 private:
  bool expect(const Field& field, YamlNode::Type type, const char* what);

  std::string file_;
  std::string object_;
  int line_offset_ = 0;
  Diagnostics& errors_;
  Diagnostics& warnings_;
};

}  // namespace svcproxy::conf

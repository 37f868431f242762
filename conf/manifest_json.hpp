// Manifests as Kubernetes JSON: what cluster mode stores in etcd. A node reads the JSON back
// through the same loader (JSON is YAML: a JSON string is a quoted scalar, a number, true or
// false a plain one), so the conversion keeps what our typed readers see (yaml_reader.hpp):
//   - a quoted scalar is a JSON string, whatever its text ("8080" stays text);
//   - a plain scalar is a JSON integer when yaml-cpp decodes it as an int64 (what
//     YamlReader::integer and port_ref accept: 80, -1, 0x1F, and 010 as octal 8), true or
//     false when it decodes as a boolean (YamlReader::boolean: true, yes, on, y and their
//     negations, in three casings), and a JSON string otherwise;
//   - floats stay strings: no field svcproxy reads is one, and Boost.JSON would write 1.10
//     back as 1.1E0, which a field read as text (a label, an error message) would show;
//   - a YAML null (~, null, nothing) is JSON null; a tagged scalar (!!str null) is a scalar
//     to our readers, so it is converted as one;
//   - keys are the text of scalar keys; aliases are expanded.
// An integer or boolean in a spelling other than the one JSON writes (0x1F, 010, +5, yes)
// reads back in that spelling (31, 8, 5, true): the same to the field that wants a number or
// a boolean, a different text to one that wants text (Kubernetes rejects a number or a
// boolean there, e.g. a label value).
#pragma once

#include <yaml-cpp/mark.h>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "conf/diagnostics.hpp"
#include "conf/model.hpp"
#include "conf/yaml_tree.hpp"

namespace svcproxy::conf {

struct ManifestObject {
  std::string api_version;     // "v1", "apps/v1", "svcproxy.io/v1"
  std::string kind;            // Service, Pod, Deployment, Secret, ProxyConfig
  std::string namespace_name;  // metadata.namespace, "default" when absent; empty for ProxyConfig
  std::string name;            // metadata.name
  boost::json::object json;    // the whole document
  SourceLocation location;     // where the document (or the List item) starts
};

// Each known-kind document of the files (paths as load_files takes them: files or
// directories), a kubectl List item by item, in file order. Unknown kinds are left out
// silently (the loader warns about them). Syntax errors, and documents with no JSON form
// (see JsonConversionError), go to `errors`; the other documents are still returned.
std::vector<ManifestObject> read_manifest_objects(const std::vector<std::string>& paths,
                                                  Diagnostics& errors);

// What has no JSON form: a key that is not a scalar (a mapping, a list, a null), a key given
// twice in one mapping (YAML allows it, and our readers take the first for a field but the
// last for a label), aliases that nest inside themselves or expand past kMaxJsonBytes.
class JsonConversionError : public std::runtime_error {
 public:
  JsonConversionError(const YAML::Mark& mark, std::string field_path, const std::string& message);
  const YAML::Mark& mark() const { return mark_; }
  const std::string& field_path() const { return field_path_; }  // "spec.ports[1]"; "" at the root

 private:
  YAML::Mark mark_;
  std::string field_path_;
};

// Text and values together, counted roughly, that aliases may expand one document to:
// etcd keeps values of 1.5 MiB by default, so this only stops a "billion laughs" document.
inline constexpr std::size_t kMaxJsonBytes = std::size_t{64} << 20;
// Nesting deeper than any manifest; an alias inside its own anchor reaches it at once.
inline constexpr int kMaxJsonDepth = 500;

// One YAML node as JSON, with the rules above; throws JsonConversionError.
boost::json::value to_json(const YamlNode& node);

}  // namespace svcproxy::conf

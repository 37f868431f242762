// Manifests as Kubernetes JSON: what cluster mode stores in etcd. A node reads the JSON back
// through the same loader (JSON is YAML), so the conversion keeps exactly what our parsers
// see: a quoted scalar is a JSON string; a plain one is an integer, a boolean or null when
// yaml-cpp would decode it as one (so `port: 80` stays a number and `"80"` a string), else
// a string. Aliases are expanded.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <string>
#include <vector>

#include "conf/diagnostics.hpp"
#include "conf/model.hpp"
#include "conf/yaml_tree.hpp"

namespace svcproxy::conf {

struct ManifestObject {
  std::string api_version;     // "v1", "apps/v1", "svcproxy.io/v1"
  std::string kind;            // Service, Pod, Deployment, Secret, ProxyConfig
  std::string namespace_name;  // metadata.namespace; "default" when absent
  std::string name;            // metadata.name
  boost::json::object json;    // the whole document
  SourceLocation location;     // where the document (or the List item) starts
};

// The known-kind documents of the files (as load_files takes them: files or directories),
// a kubectl List item by item, in file order. Unknown kinds are left out silently (the
// loader warns about them); syntax errors go to `errors`.
std::vector<ManifestObject> read_manifest_objects(const std::vector<std::string>& paths,
                                                  Diagnostics& errors);

boost::json::value to_json(const YamlNode& node);

}  // namespace svcproxy::conf

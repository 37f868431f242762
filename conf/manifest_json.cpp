#include "conf/manifest_json.hpp"

#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/node/convert.h>
#include <yaml-cpp/node/node.h>

#include <array>
#include <boost/json/serialize.hpp>
#include <sstream>
#include <string_view>

#include "conf/config_files.hpp"
#include "conf/document_split.hpp"

namespace svcproxy::conf {
namespace json = boost::json;

namespace {

template <typename T>
bool decode(const std::string& text, T& value) {
  return YAML::convert<T>::decode(YAML::Node(text), value);
}

bool is_null_text(const std::string& text) {
  return text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL";
}

json::value plain_scalar(const std::string& text) {
  if (is_null_text(text)) return nullptr;
  long long integer = 0;
  if (decode(text, integer)) return integer;
  bool boolean = false;
  if (decode(text, boolean)) return boolean;
  // A float stays text: no field svcproxy reads is one, and Boost.JSON would print 1.5 back
  // as 1.5E0.
  return json::string(text);
}

constexpr std::array<std::string_view, 5> kKnownKinds{"v1/Service", "v1/Pod", "apps/v1/Deployment",
                                                      "v1/Secret", "svcproxy.io/v1/ProxyConfig"};

std::string scalar_at(const YamlNode& map, std::string_view key) {
  const YamlNode child = map.child(key);
  return child.is_scalar() ? child.scalar() : std::string();
}

void collect(const YamlNode& node, const std::string& file, int first_line,
             std::vector<ManifestObject>& out) {
  if (!node.is_map()) return;
  const std::string api_version = scalar_at(node, "apiVersion");
  const std::string kind = scalar_at(node, "kind");
  if (api_version == "v1" && kind == "List") {
    const YamlNode items = node.child("items");
    for (std::size_t i = 0; i < items.size(); ++i)
      collect(items.item(i), file, first_line, out);
    return;
  }
  const std::string qualified = api_version + "/" + kind;
  if (std::find(kKnownKinds.begin(), kKnownKinds.end(), qualified) == kKnownKinds.end()) return;
  ManifestObject object;
  object.api_version = api_version;
  object.kind = kind;
  const YamlNode metadata = node.child("metadata");
  object.name = metadata.is_map() ? scalar_at(metadata, "name") : std::string();
  object.namespace_name = metadata.is_map() ? scalar_at(metadata, "namespace") : std::string();
  if (object.namespace_name.empty()) object.namespace_name = "default";
  json::value converted = to_json(node);
  object.json = std::move(converted.as_object());
  const YAML::Mark mark = node.mark();
  object.location = {file, first_line + mark.line + 1, mark.column + 1};
  out.push_back(std::move(object));
}

}  // namespace

json::value to_json(const YamlNode& node) {
  switch (node.type()) {
    case YamlNode::Type::Null:
      return nullptr;
    case YamlNode::Type::Scalar:
      return node.is_quoted() ? json::value(json::string(node.scalar()))
                              : plain_scalar(node.scalar());
    case YamlNode::Type::Sequence: {
      json::array items;
      items.reserve(node.size());
      for (std::size_t i = 0; i < node.size(); ++i)
        items.push_back(to_json(node.item(i)));
      return items;
    }
    case YamlNode::Type::Map: {
      json::object entries;
      for (std::size_t i = 0; i < node.size(); ++i) {
        const auto [key, value] = node.entry(i);
        const std::string name = key.is_scalar() ? key.scalar() : json::serialize(to_json(key));
        if (!entries.contains(name)) entries[name] = to_json(value);  // the first wins, as child()
      }
      return entries;
    }
  }
  return nullptr;
}

std::vector<ManifestObject> read_manifest_objects(const std::vector<std::string>& paths,
                                                  Diagnostics& errors) {
  std::vector<ManifestObject> objects;
  Diagnostics ignored_warnings;  // the loader has reported them
  for (const auto& path : paths)
    for (const auto& file : config_files(path, errors, ignored_warnings)) {
      const auto text = read_whole_file(file);
      if (!text) {
        add_file_diagnostic(errors, file.string(), "cannot read the file");
        continue;
      }
      for (const DocumentText& document : split_documents(*text)) {
        try {
          std::istringstream stream{std::string(document.text)};
          YamlTree tree(stream, document.text.size());
          for (const YamlNode& root : tree.documents())
            collect(root, file.string(), document.first_line, objects);
        } catch (const std::exception& e) {
          // Built field by field: GCC 12 at -O3 warns (maybe-uninitialized) on the braced
          // temporary here.
          Diagnostic failure;
          failure.location = {file.string(), document.first_line + 1, 1};
          failure.message = std::string("cannot read this document: ") + e.what();
          errors.push_back(std::move(failure));
        }
      }
    }
  return objects;
}

}  // namespace svcproxy::conf

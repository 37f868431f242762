#include "conf/manifest_json.hpp"

#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <exception>
#include <memory>
#include <sstream>
#include <string_view>
#include <utility>

#include "conf/config_files.hpp"
#include "conf/document_split.hpp"

namespace svcproxy::conf {
namespace json = boost::json;

JsonConversionError::JsonConversionError(const YAML::Mark& mark, std::string field_path,
                                         const std::string& message)
    : std::runtime_error(message), mark_(mark), field_path_(std::move(field_path)) {}

namespace {

// yaml-cpp's own decoding, as YamlReader does it (yaml_reader.cpp): a plain scalar is a
// JSON number or boolean exactly when a typed reader would take it as one.
template <typename T>
bool decode(const std::string& text, T& value) {
  thread_local YAML::Node node;  // re-assigned: a node per scalar costs several allocations
  node = text;
  return YAML::convert<T>::decode(node, value);
}

json::value plain_scalar(const std::string& text) {
  long long integer = 0;
  if (decode(text, integer)) return static_cast<std::int64_t>(integer);
  bool boolean = false;
  if (decode(text, boolean)) return boolean;
  return json::string(text);
}

// Where the conversion is, one step per level on the stack: the field path of an error is
// built only when there is one.
struct PathStep {
  const PathStep* parent = nullptr;
  std::string_view key;  // a mapping entry's key, or a list's name for an item
  std::size_t index = 0;
  bool is_item = false;  // key[index] rather than .key
};

// As Field::child and Field::item write paths: "spec.ports[1].targetPort".
std::string path_of(const PathStep* step) {
  if (!step) return "";
  std::string path = path_of(step->parent);
  if (step->is_item) return path + "[" + std::to_string(step->index) + "]";
  return path.empty() ? std::string(step->key) : path + "." + std::string(step->key);
}

class Converter {
 public:
  json::value convert(const YamlNode& node, const PathStep* at, int depth) {
    if (depth > kMaxJsonDepth)
      fail(node, at,
           "nested more than " + std::to_string(kMaxJsonDepth) +
               " deep (an alias inside its own anchor?)");
    spend(node, at, 8 + node.scalar().size());
    switch (node.type()) {
      case YamlNode::Type::Null:
        return nullptr;
      case YamlNode::Type::Scalar:
        return node.is_quoted() ? json::value(json::string(node.scalar()))
                                : plain_scalar(node.scalar());
      case YamlNode::Type::Sequence:
        return sequence(node, at, depth);
      case YamlNode::Type::Map:
        return mapping(node, at, depth);
    }
    return nullptr;
  }

 private:
  json::value sequence(const YamlNode& node, const PathStep* at, int depth) {
    json::array items;
    items.reserve(node.size());
    for (std::size_t i = 0; i < node.size(); ++i) {
      const PathStep step{at, {}, i, true};
      items.push_back(convert(node.item(i), &step, depth + 1));
    }
    return items;
  }

  json::value mapping(const YamlNode& node, const PathStep* at, int depth) {
    json::object entries;
    entries.reserve(node.size());
    for (std::size_t i = 0; i < node.size(); ++i) {
      const auto [key, value] = node.entry(i);
      if (!key.is_scalar())
        fail(key, at, "a key that is a mapping, a list or null has no JSON form");
      const PathStep step{at, key.scalar(), 0, false};
      spend(key, &step, key.scalar().size());
      const auto [slot, added] = entries.emplace(key.scalar(), nullptr);
      if (!added) fail(key, &step, "is given twice (a JSON object has one value per key)");
      slot->value() = convert(value, &step, depth + 1);
    }
    return entries;
  }

  void spend(const YamlNode& node, const PathStep* at, std::size_t bytes) {
    if (bytes <= left_) {
      left_ -= bytes;
      return;
    }
    fail(node, at,
         "aliases expand this document past " + std::to_string(kMaxJsonBytes >> 20) +
             " MiB of JSON");
  }

  [[noreturn]] static void fail(const YamlNode& node, const PathStep* at,
                                const std::string& message) {
    throw JsonConversionError(node.mark(), path_of(at), message);
  }

  std::size_t left_ = kMaxJsonBytes;
};

constexpr std::array<std::string_view, 5> kKnownKinds{"v1/Service", "v1/Pod", "apps/v1/Deployment",
                                                      "v1/Secret", "svcproxy.io/v1/ProxyConfig"};

// As YamlReader::location: yaml-cpp counts from 0 and uses -1 for "unknown".
SourceLocation location_of(const std::string& file, int first_line, const YAML::Mark& mark) {
  return {file, std::max(0, mark.line) + first_line + 1, std::max(0, mark.column) + 1};
}

// Reading one document's objects, as document_reader.cpp reads its models.
class ObjectCollector {
 public:
  ObjectCollector(const std::string& file, int first_line, std::vector<ManifestObject>& objects,
                  Diagnostics& errors)
      : file_(file), first_line_(first_line), objects_(objects), errors_(errors) {}

  // `at` is where a List item is ("items[2]"), as the loader's field paths have it.
  void collect(const YamlNode& node, const PathStep* at) {
    if (!node.is_map()) return;
    const std::string& api_version = node.child("apiVersion").scalar();
    const std::string& kind = node.child("kind").scalar();
    if (api_version == "v1" && kind == "List") {
      const YamlNode items = node.child("items");
      const PathStep list{at, "items", 0, false};
      for (std::size_t i = 0; i < items.size(); ++i) {
        const PathStep item{&list, {}, i, true};
        collect(items.item(i), &item);
      }
      return;
    }
    const std::string qualified = api_version + "/" + kind;
    if (std::find(kKnownKinds.begin(), kKnownKinds.end(), qualified) == kKnownKinds.end()) return;
    ManifestObject object;
    object.api_version = api_version;
    object.kind = kind;
    const YamlNode metadata = node.child("metadata");
    object.name = metadata.child("name").scalar();
    const YamlNode namespace_node = metadata.child("namespace");
    if (kind != "ProxyConfig")
      object.namespace_name = namespace_node.is_null() ? "default" : namespace_node.scalar();
    object.location = location_of(file_, first_line_, node.mark());
    try {
      object.json = std::move(Converter().convert(node, at, 0).as_object());
    } catch (const JsonConversionError& e) {
      errors_.push_back({location_of(file_, first_line_, e.mark()), e.field_path(), e.what()});
      return;
    }
    objects_.push_back(std::move(object));
  }

 private:
  const std::string& file_;
  int first_line_;
  std::vector<ManifestObject>& objects_;
  Diagnostics& errors_;
};

// Diagnostics as the loader words them (document_reader.cpp), so `apply` says the same.
void read_document(const DocumentText& document, const std::string& file,
                   std::vector<ManifestObject>& objects, Diagnostics& errors) {
  std::unique_ptr<YamlTree> tree;
  Diagnostic failure;  // built field by field: GCC 12 -O3 warns on a braced temporary here
  try {
    std::istringstream stream{std::string(document.text)};
    tree = std::make_unique<YamlTree>(stream, document.text.size());
  } catch (const YAML::Exception& e) {
    failure.location = location_of(file, document.first_line, e.mark);
    failure.message = "YAML syntax error: " + e.msg;
  } catch (const std::exception& e) {
    failure.location = {file, document.first_line + 1, 1};
    failure.message = std::string("cannot parse: ") + e.what();
  }
  if (!tree) {
    errors.push_back(std::move(failure));
    return;
  }
  ObjectCollector collector(file, document.first_line, objects, errors);
  for (const YamlNode& root : tree->documents())
    collector.collect(root, nullptr);
}

}  // namespace

json::value to_json(const YamlNode& node) {
  return Converter().convert(node, nullptr, 0);
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
      for (const DocumentText& document : split_documents(*text))
        read_document(document, file.string(), objects, errors);
    }
  return objects;
}

}  // namespace svcproxy::conf

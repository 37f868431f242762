// One YAML document as a compact read-only tree, built from yaml-cpp's parser events.
// yaml-cpp's own YAML::Node graph costs several allocations and shared_ptr updates per
// node, and a key lookup converts every key to a string; for a 60,000-document
// configuration that was a third of the load. The tree keeps exactly what YAML::Load would
// (types, scalars, quoted-or-plain tags, marks, key order, duplicate keys, aliases as the
// same node), so every lookup answers as YAML::Node's did. Internal to conf/.
#pragma once

#include <yaml-cpp/mark.h>

#include <cstdint>
#include <istream>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace svcproxy::conf {

class YamlTree;

// A node of a YamlTree, or no node ("absent": what YAML::Node() is). Cheap to copy; valid
// while its tree lives.
class YamlNode {
 public:
  enum class Type { Null, Scalar, Sequence, Map };

  YamlNode() = default;

  Type type() const;
  bool is_null() const { return type() == Type::Null; }  // absent, or a YAML null
  bool is_scalar() const { return type() == Type::Scalar; }
  bool is_sequence() const { return type() == Type::Sequence; }
  bool is_map() const { return type() == Type::Map; }
  // The text of a scalar; empty for any other node.
  const std::string& scalar() const;
  // True for a quoted scalar (yaml-cpp's non-specific tag "!"): "8080" is a string.
  bool is_quoted() const;
  YAML::Mark mark() const;  // Mark::null_mark() when absent

  // Items of a sequence, entries of a map (in document order); 0 for anything else.
  std::size_t size() const;
  YamlNode item(std::size_t index) const;  // absent when out of range or not a sequence
  // The value of the first entry whose key is the scalar `key`; absent when none.
  YamlNode child(std::string_view key) const;
  std::pair<YamlNode, YamlNode> entry(std::size_t index) const;  // key and value

 private:
  friend class YamlTree;
  friend class TreeBuilder;
  YamlNode(const YamlTree* tree, std::uint32_t index) : tree_(tree), index_(index) {}

  const YamlTree* tree_ = nullptr;
  std::uint32_t index_ = 0;
};

// The documents of one YAML text, or the exception yaml-cpp's parser threw for it.
class YamlTree {
 public:
  // Parses every document of `input`; yaml-cpp's exceptions (syntax errors) pass through.
  // `input_size`, when known, sizes the node vector up front (about one node per 8 bytes of
  // YAML): growing it was 6% of parsing.
  explicit YamlTree(std::istream& input, std::size_t input_size = 0);
  // The same tree for a text that is one JSON object or array, read without yaml-cpp;
  // null when the text is anything else, or JSON this reader cannot promise to read
  // exactly as yaml-cpp would (a tab, a surrogate escape, deep nesting...): parse it with
  // the constructor then. Cluster mode stores every object as JSON, and yaml-cpp's scanner
  // was most of a node's initial sync.
  static std::unique_ptr<YamlTree> from_json(std::string_view text);
  YamlTree(const YamlTree&) = delete;
  YamlTree& operator=(const YamlTree&) = delete;

  // The root of each document; an empty document's root is absent, as with YAML::LoadAll.
  const std::vector<YamlNode>& documents() const { return documents_; }

 private:
  friend class YamlNode;
  friend class TreeBuilder;
  friend class JsonTreeReader;

  YamlTree() = default;

  struct Data {
    YamlNode::Type type = YamlNode::Type::Null;
    bool quoted = false;
    YAML::Mark mark;
    std::string scalar;
    std::vector<std::uint32_t> children;  // items; or key, value, key, value...
  };

  std::vector<Data> nodes_;
  std::vector<YamlNode> documents_;
};

}  // namespace svcproxy::conf

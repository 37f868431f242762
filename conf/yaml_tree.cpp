#include "conf/yaml_tree.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/parser.h>

#include <optional>

namespace svcproxy::conf {

// The same steps as yaml-cpp's NodeBuilder (src/nodebuilder.cpp), on YamlTree::Data.
class TreeBuilder : public YAML::EventHandler {
 public:
  explicit TreeBuilder(std::vector<YamlTree::Data>& nodes) : nodes_(nodes) {}

  // The document's root; absent for a document without one.
  YamlNode root(const YamlTree* tree) const {
    return has_root_ ? YamlNode(tree, root_) : YamlNode();
  }

  void OnDocumentStart(const YAML::Mark& mark) override { start_ = mark; }
  const YAML::Mark& start() const { return start_; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    push(mark, anchor, YamlNode::Type::Null);
    pop();
  }
  void OnAlias(const YAML::Mark&, YAML::anchor_t anchor) override {
    push_existing(anchors_.at(anchor));
    pop();
  }
  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    const std::uint32_t index = push(mark, anchor, YamlNode::Type::Scalar);
    nodes_[index].scalar = value;
    nodes_[index].quoted = tag == "!";
    pop();
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    push(mark, anchor, YamlNode::Type::Sequence);
  }
  void OnSequenceEnd() override { pop(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    push(mark, anchor, YamlNode::Type::Map);
    ++map_depth_;
  }
  void OnMapEnd() override {
    --map_depth_;
    pop();
  }

 private:
  struct PushedKey {
    std::uint32_t node;
    bool has_value;
  };

  std::uint32_t push(const YAML::Mark& mark, YAML::anchor_t anchor, YamlNode::Type type) {
    const auto index = static_cast<std::uint32_t>(nodes_.size());
    nodes_.push_back({type, false, mark, {}, {}});
    if (anchor) {
      anchors_.resize(anchor + 1);
      anchors_[anchor] = index;
    }
    push_existing(index);
    return index;
  }

  void push_existing(std::uint32_t index) {
    const bool needs_key = !stack_.empty() && nodes_[stack_.back()].type == YamlNode::Type::Map &&
                           keys_.size() < map_depth_;
    stack_.push_back(index);
    if (needs_key) keys_.push_back({index, false});
  }

  void pop() {
    const std::uint32_t node = stack_.back();
    stack_.pop_back();
    if (stack_.empty()) {
      root_ = node;
      has_root_ = true;
      return;
    }
    YamlTree::Data& collection = nodes_[stack_.back()];
    if (collection.type == YamlNode::Type::Sequence) {
      collection.children.push_back(node);
    } else if (collection.type == YamlNode::Type::Map) {
      PushedKey& key = keys_.back();
      if (key.has_value) {
        collection.children.push_back(key.node);
        collection.children.push_back(node);
        keys_.pop_back();
      } else {
        key.has_value = true;
      }
    }
  }

  std::vector<YamlTree::Data>& nodes_;
  std::vector<std::uint32_t> stack_;
  std::vector<std::uint32_t> anchors_{0};  // anchors count from 1
  std::vector<PushedKey> keys_;
  std::size_t map_depth_ = 0;
  std::uint32_t root_ = 0;
  bool has_root_ = false;
  YAML::Mark start_ = YAML::Mark::null_mark();
};

YamlTree::YamlTree(std::istream& input, std::size_t input_size) {
  nodes_.reserve(input_size / 8 + 4);
  YAML::Parser parser(input);
  std::optional<int> previous_start;
  for (;;) {
    TreeBuilder builder(nodes_);
    if (!parser.HandleNextDocument(builder)) break;
    // yaml-cpp 0.7 (Debian 12) does not move past a `,` outside a flow collection: it
    // reports an empty document there again and again, forever, growing memory (its issue
    // #1040, fixed in 0.8.0; found by fuzz/yaml_loader_fuzzer). Every real document
    // consumes input, so a document that starts where the previous one did is that loop.
    if (previous_start == builder.start().pos)
      throw YAML::ParserException(builder.start(), "unexpected ',' outside [...] or {...}");
    previous_start = builder.start().pos;
    documents_.push_back(builder.root(this));
  }
}

YamlNode::Type YamlNode::type() const {
  return tree_ ? tree_->nodes_[index_].type : Type::Null;
}

const std::string& YamlNode::scalar() const {
  static const std::string empty;
  return is_scalar() ? tree_->nodes_[index_].scalar : empty;
}

bool YamlNode::is_quoted() const {
  return tree_ && tree_->nodes_[index_].quoted;
}

YAML::Mark YamlNode::mark() const {
  return tree_ ? tree_->nodes_[index_].mark : YAML::Mark::null_mark();
}

std::size_t YamlNode::size() const {
  switch (type()) {
    case Type::Sequence:
      return tree_->nodes_[index_].children.size();
    case Type::Map:
      return tree_->nodes_[index_].children.size() / 2;
    default:
      return 0;
  }
}

YamlNode YamlNode::item(std::size_t index) const {
  if (!is_sequence() || index >= size()) return {};
  return {tree_, tree_->nodes_[index_].children[index]};
}

YamlNode YamlNode::child(std::string_view key) const {
  if (!is_map()) return {};
  const auto& children = tree_->nodes_[index_].children;
  for (std::size_t i = 0; i + 1 < children.size(); i += 2) {
    const YamlNode candidate(tree_, children[i]);
    if (candidate.is_scalar() && candidate.scalar() == key) return {tree_, children[i + 1]};
  }
  return {};
}

std::pair<YamlNode, YamlNode> YamlNode::entry(std::size_t index) const {
  if (!is_map() || index >= size()) return {};
  const auto& children = tree_->nodes_[index_].children;
  return {{tree_, children[2 * index]}, {tree_, children[2 * index + 1]}};
}

}  // namespace svcproxy::conf

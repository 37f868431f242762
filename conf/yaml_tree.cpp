#include "conf/yaml_tree.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/parser.h>

#include <cctype>
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

// JSON into YamlTree::Data, with the nodes, scalars, tags and marks yaml-cpp's flow parser
// gives the same text: a node's mark is where its first token starts (the quote of a string,
// the brace of a map), strings are quoted scalars, numbers and true/false plain ones, null a
// Null node; positions count bytes from the text's start, lines and columns from 0. Whatever
// could make the two differ is refused rather than imitated.
class JsonTreeReader {
 public:
  JsonTreeReader(std::string_view text, std::vector<YamlTree::Data>& nodes)
      : text_(text), nodes_(nodes) {}

  std::optional<std::uint32_t> root() {
    skip_space();
    if (at_ == text_.size() || (text_[at_] != '{' && text_[at_] != '[')) return std::nullopt;
    const auto root = value(0);
    skip_space();
    if (!root || at_ != text_.size()) return std::nullopt;
    return root;
  }

 private:
  static constexpr int kMaxDepth = 64;
  // YAML limits an implicit key to 1024 characters.
  static constexpr std::size_t kMaxKey = 1024;

  YAML::Mark mark() const {
    YAML::Mark mark;
    mark.pos = static_cast<int>(at_);
    mark.line = line_;
    mark.column = static_cast<int>(at_ - line_start_);
    return mark;
  }

  // JSON's spaces, but only those yaml-cpp treats alike everywhere: no tab, no CR.
  void skip_space() {
    while (at_ < text_.size() && (text_[at_] == ' ' || text_[at_] == '\n')) {
      if (text_[at_] == '\n') {
        ++line_;
        line_start_ = at_ + 1;
      }
      ++at_;
    }
  }

  bool eat(char c) {
    skip_space();
    if (at_ == text_.size() || text_[at_] != c) return false;
    ++at_;
    return true;
  }

  std::uint32_t add(YamlNode::Type type, const YAML::Mark& mark) {
    nodes_.push_back({type, false, mark, {}, {}});
    return static_cast<std::uint32_t>(nodes_.size() - 1);
  }

  std::optional<std::uint32_t> value(int depth) {
    skip_space();
    if (at_ == text_.size() || depth >= kMaxDepth) return std::nullopt;
    const YAML::Mark at = mark();
    switch (text_[at_]) {
      case '{':
        return collection(YamlNode::Type::Map, '}', at, depth);
      case '[':
        return collection(YamlNode::Type::Sequence, ']', at, depth);
      case '"': {
        const std::uint32_t node = add(YamlNode::Type::Scalar, at);
        std::string text;
        if (!string(text)) return std::nullopt;
        nodes_[node].scalar = std::move(text);
        nodes_[node].quoted = true;
        return node;
      }
      default:
        return plain(at);
    }
  }

  std::optional<std::uint32_t> collection(YamlNode::Type type, char close, const YAML::Mark& at,
                                          int depth) {
    const std::uint32_t node = add(type, at);
    ++at_;
    if (eat(close)) return node;
    for (;;) {
      if (type == YamlNode::Type::Map) {
        skip_space();
        if (at_ == text_.size() || text_[at_] != '"') return std::nullopt;
        const std::size_t key_start = at_;
        const auto key = value(depth + 1);
        if (!key || at_ - key_start > kMaxKey || !eat(':')) return std::nullopt;
        nodes_[node].children.push_back(*key);
      }
      const auto item = value(depth + 1);
      if (!item) return std::nullopt;
      nodes_[node].children.push_back(*item);
      if (eat(close)) return node;
      if (!eat(',')) return std::nullopt;
    }
  }

  // true, false, null and numbers as JSON writes them; the text is the scalar.
  std::optional<std::uint32_t> plain(const YAML::Mark& at) {
    const std::size_t start = at_;
    while (at_ < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[at_])) ||
                                  text_[at_] == '-' || text_[at_] == '+' || text_[at_] == '.'))
      ++at_;
    const std::string_view word = text_.substr(start, at_ - start);
    if (word == "null") return add(YamlNode::Type::Null, at);
    if (word != "true" && word != "false" && !is_number(word)) return std::nullopt;
    const std::uint32_t node = add(YamlNode::Type::Scalar, at);
    nodes_[node].scalar = std::string(word);
    return node;
  }

  static bool is_number(std::string_view word) {
    std::size_t i = 0;
    const auto digits = [&] {
      const std::size_t from = i;
      while (i < word.size() && word[i] >= '0' && word[i] <= '9')
        ++i;
      return i > from;
    };
    if (i < word.size() && word[i] == '-') ++i;
    if (i + 1 < word.size() && word[i] == '0' && word[i + 1] >= '0' && word[i + 1] <= '9')
      return false;  // JSON has no leading zeros (YAML 1.1 reads 010 as octal)
    if (!digits()) return false;
    if (i < word.size() && word[i] == '.') {
      ++i;
      if (!digits()) return false;
    }
    if (i < word.size() && (word[i] == 'e' || word[i] == 'E')) {
      ++i;
      if (i < word.size() && (word[i] == '+' || word[i] == '-')) ++i;
      if (!digits()) return false;
    }
    return i == word.size();
  }

  // A string's value, its escapes decoded; false for what is not plain JSON (a control
  // character) or what yaml-cpp decodes its own way (a surrogate, \u0000).
  bool string(std::string& out) {
    ++at_;  // the opening quote
    for (;;) {
      const std::size_t run = at_;
      while (at_ < text_.size() && text_[at_] != '"' && text_[at_] != '\\' &&
             static_cast<unsigned char>(text_[at_]) >= 0x20)
        ++at_;
      out.append(text_.substr(run, at_ - run));
      if (at_ == text_.size() || static_cast<unsigned char>(text_[at_]) < 0x20) return false;
      if (text_[at_++] == '"') return true;
      if (at_ == text_.size()) return false;
      switch (text_[at_++]) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          if (at_ + 4 > text_.size()) return false;
          unsigned code = 0;
          for (int i = 0; i < 4; ++i) {
            const char c = text_[at_++];
            code <<= 4;
            if (c >= '0' && c <= '9')
              code |= static_cast<unsigned>(c - '0');
            else if (c >= 'a' && c <= 'f')
              code |= static_cast<unsigned>(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F')
              code |= static_cast<unsigned>(c - 'A' + 10);
            else
              return false;
          }
          if (code == 0 || (code >= 0xD800 && code <= 0xDFFF)) return false;
          append_utf8(out, code);
          break;
        }
        default:
          return false;
      }
    }
  }

  static void append_utf8(std::string& out, unsigned code) {
    if (code < 0x80) {
      out += static_cast<char>(code);
    } else if (code < 0x800) {
      out += static_cast<char>(0xC0 | (code >> 6));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else {
      out += static_cast<char>(0xE0 | (code >> 12));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    }
  }

  std::string_view text_;
  std::vector<YamlTree::Data>& nodes_;
  std::size_t at_ = 0;
  int line_ = 0;
  std::size_t line_start_ = 0;
};

std::unique_ptr<YamlTree> YamlTree::from_json(std::string_view text) {
  std::unique_ptr<YamlTree> tree(new YamlTree);
  tree->nodes_.reserve(text.size() / 8 + 4);
  const auto root = JsonTreeReader(text, tree->nodes_).root();
  if (!root) return nullptr;
  tree->documents_.push_back(YamlNode(tree.get(), *root));
  return tree;
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

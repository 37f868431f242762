#include "server/admin/merge_patch.hpp"

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <cctype>
#include <cstdint>
#include <limits>
#include <map>
#include <utility>
#include <vector>

namespace svcproxy::server {
namespace json = boost::json;

namespace {

// Deeper than any API object nests; a patch nested further is refused rather than recursed
// into until the stack runs out.
constexpr int kMaxDepth = 100;

constexpr std::string_view kPatchDirective = "$patch";
constexpr std::string_view kRetainKeys = "$retainKeys";
constexpr std::string_view kSetElementOrder = "$setElementOrder";
constexpr std::string_view kDeleteFromPrimitiveList = "$deleteFromPrimitiveList";

// Why a patch cannot apply. Thrown inside this file only: every failure, however deep in
// the recursion, abandons the whole patch, and apply_patch turns it into a PatchOutcome.
struct PatchFailure {
  std::string error;
  std::string field;
};

std::string describe_kind(const json::value& value) {
  switch (value.kind()) {
    case json::kind::object:
      return "an object";
    case json::kind::array:
      return "a list";
    case json::kind::string:
      return "a string";
    case json::kind::bool_:
      return "a boolean";
    case json::kind::null:
      return "null";
    default:
      return "a number";
  }
}

// A value as an error message quotes it, cut short.
std::string excerpt(const json::value& value) {
  std::string text = json::serialize(value);
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  return text;
}

void check_depth(int depth, const std::string& field) {
  if (depth > kMaxDepth)
    throw PatchFailure{"the patch nests deeper than " + std::to_string(kMaxDepth) + " levels",
                       field};
}

double number_as_double(const json::value& value) {
  if (value.is_double()) return value.get_double();
  if (value.is_int64()) return static_cast<double>(value.get_int64());
  return static_cast<double>(value.get_uint64());
}

bool same_number(const json::value& a, const json::value& b) {
  if (a.is_double() || b.is_double()) return number_as_double(a) == number_as_double(b);
  if (a.is_int64() && b.is_int64()) return a.get_int64() == b.get_int64();
  if (a.is_uint64() && b.is_uint64()) return a.get_uint64() == b.get_uint64();
  const std::int64_t signed_one = a.is_int64() ? a.get_int64() : b.get_int64();
  const std::uint64_t unsigned_one = a.is_uint64() ? a.get_uint64() : b.get_uint64();
  return signed_one >= 0 && static_cast<std::uint64_t>(signed_one) == unsigned_one;
}

// JSON equality with numbers equal by value, whatever Boost.JSON stores them as (80 and
// 80.0): as RFC 6902's test compares, and as Go compares decoded JSON (all float64), which
// is how patch.go matches merge keys.
bool same_json(const json::value& a, const json::value& b, int depth = 0) {
  check_depth(depth, "");
  if (a.is_number() && b.is_number()) return same_number(a, b);
  if (a.kind() != b.kind()) return false;
  if (const auto* a_object = a.if_object()) {
    const auto& b_object = b.get_object();
    if (a_object->size() != b_object.size()) return false;
    for (const auto& [key, value] : *a_object) {
      const auto* other = b_object.if_contains(key);
      if (!other || !same_json(value, *other, depth + 1)) return false;
    }
    return true;
  }
  if (const auto* a_list = a.if_array()) {
    const auto& b_list = b.get_array();
    if (a_list->size() != b_list.size()) return false;
    for (std::size_t i = 0; i < a_list->size(); ++i)
      if (!same_json((*a_list)[i], b_list[i], depth + 1)) return false;
    return true;
  }
  return a == b;
}

// Where a value sits: as a user reads it ("spec.ports[1]") and as the merge-key table
// names it ("spec.ports[]": positions left out, since one rule holds for every element).
struct FieldPath {
  std::string shown;
  std::string pattern;

  FieldPath key(std::string_view name) const {
    const auto join = [name](const std::string& base) {
      return base.empty() ? std::string(name) : base + "." + std::string(name);
    };
    return {join(shown), join(pattern)};
  }
  FieldPath item(std::size_t index) const {
    return {shown + "[" + std::to_string(index) + "]", pattern + "[]"};
  }
};

// ---- JSON merge patch (RFC 7386) ----

json::value merge_patch(json::value target, const json::value& patch, const FieldPath& at,
                        int depth) {
  check_depth(depth, at.shown);
  const auto* patch_map = patch.if_object();
  if (!patch_map) return patch;  // arrays and scalars replace what was there
  json::object merged = target.is_object() ? std::move(target.get_object()) : json::object();
  for (const auto& [key, value] : *patch_map) {
    if (value.is_null()) {
      merged.erase(key);
      continue;
    }
    json::value* current = merged.if_contains(key);
    json::value base = current ? std::move(*current) : json::value();
    merged[key] = merge_patch(std::move(base), value, at.key(key), depth + 1);
  }
  return merged;
}

// ---- JSON patch (RFC 6902) ----

// A JSON pointer (RFC 6901) as its reference tokens, "~1" and "~0" unescaped.
std::vector<std::string> parse_pointer(std::string_view pointer, const std::string& where) {
  std::vector<std::string> tokens;
  if (pointer.empty()) return tokens;  // the whole document
  if (pointer.front() != '/')
    throw PatchFailure{where + ": \"" + std::string(pointer) +
                           "\" is not a JSON pointer (it starts with /, or is empty)",
                       ""};
  std::string token;
  for (std::size_t i = 1; i <= pointer.size(); ++i) {
    if (i == pointer.size() || pointer[i] == '/') {
      tokens.push_back(std::move(token));
      token.clear();
    } else if (pointer[i] != '~') {
      token += pointer[i];
    } else if (i + 1 < pointer.size() && (pointer[i + 1] == '0' || pointer[i + 1] == '1')) {
      token += pointer[i + 1] == '0' ? '~' : '/';
      ++i;
    } else {
      throw PatchFailure{where + ": \"" + std::string(pointer) +
                             "\" has a ~ that is neither ~0 (for ~) nor ~1 (for /)",
                         ""};
    }
  }
  return tokens;
}

// A list position from a pointer token: digits without a leading zero, below `size`; where
// a value may be inserted, also `size` itself and "-" (the end).
std::optional<std::size_t> list_position(std::string_view token, std::size_t size,
                                         bool may_append) {
  if (may_append && token == "-") return size;
  if (token.empty() || (token.size() > 1 && token.front() == '0')) return std::nullopt;
  std::size_t position = 0;
  for (const char c : token) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
    position = position * 10 + static_cast<std::size_t>(c - '0');
    if (position > size) return std::nullopt;  // also keeps the arithmetic from overflowing
  }
  if (position == size && !may_append) return std::nullopt;
  return position;
}

bool all_digits(std::string_view token) {
  return !token.empty() && std::all_of(token.begin(), token.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c));
  });
}

// The first `count` tokens as a field path ("spec.ports[1]"), lists told apart from objects
// by what the document holds there (by the token's look where it holds nothing).
std::string field_of(const json::value& document, const std::vector<std::string>& tokens,
                     std::size_t count) {
  std::string field;
  const json::value* current = &document;
  for (std::size_t i = 0; i < count; ++i) {
    const std::string& token = tokens[i];
    const bool in_list = current ? current->is_array() : (token == "-" || all_digits(token));
    if (in_list) {
      field += "[" + token + "]";
    } else {
      if (!field.empty()) field += '.';
      field += token;
    }
    const json::value* next = nullptr;
    if (current && current->is_object()) {
      next = current->get_object().if_contains(token);
    } else if (current && current->is_array()) {
      const auto& list = current->get_array();
      if (const auto position = list_position(token, list.size(), false)) next = &list[*position];
    }
    current = next;
  }
  return field;
}

json::value* find(json::value& document, const std::vector<std::string>& tokens,
                  std::size_t count) {
  json::value* current = &document;
  for (std::size_t i = 0; i < count && current; ++i) {
    if (auto* object = current->if_object()) {
      current = object->if_contains(tokens[i]);
    } else if (auto* list = current->if_array()) {
      const auto position = list_position(tokens[i], list->size(), false);
      current = position ? &(*list)[*position] : nullptr;
    } else {
      current = nullptr;
    }
  }
  return current;
}

// The operations' steps. `where` names the operation in messages ("JSON patch operation 2
// (add /spec/ports/-)").
class JsonDocument {
 public:
  explicit JsonDocument(json::value document) : document_(std::move(document)) {}

  json::value& value() { return document_; }

  const json::value& at(const std::vector<std::string>& path, const std::string& where) {
    const json::value* found = find(document_, path, path.size());
    if (!found) missing(path, path.size(), where);
    return *found;
  }

  void add(const std::vector<std::string>& path, json::value value, const std::string& where) {
    if (path.empty()) {
      document_ = std::move(value);
      return;
    }
    json::value& parent = container_of(path, where);
    const std::string& last = path.back();
    if (auto* object = parent.if_object()) {
      (*object)[last] = std::move(value);
    } else if (auto* list = parent.if_array()) {
      const auto position = list_position(last, list->size(), true);
      if (!position)
        throw PatchFailure{where + ": \"" + last + "\" is no position in " +
                               field_of(document_, path, path.size() - 1) + ", a list of " +
                               std::to_string(list->size()),
                           field_of(document_, path, path.size())};
      list->insert(list->begin() + static_cast<std::ptrdiff_t>(*position), std::move(value));
    } else {
      not_a_container(parent, path, where);
    }
  }

  json::value remove(const std::vector<std::string>& path, const std::string& where) {
    if (path.empty()) throw PatchFailure{where + ": the whole object cannot be removed", ""};
    json::value& parent = container_of(path, where);
    const std::string& last = path.back();
    if (auto* object = parent.if_object()) {
      const auto found = object->find(last);
      if (found == object->end()) missing(path, path.size(), where);
      json::value removed = std::move(found->value());
      object->erase(found);
      return removed;
    }
    if (auto* list = parent.if_array()) {
      const auto position = list_position(last, list->size(), false);
      if (!position) missing(path, path.size(), where);
      json::value removed = std::move((*list)[*position]);
      list->erase(list->begin() + static_cast<std::ptrdiff_t>(*position));
      return removed;
    }
    not_a_container(parent, path, where);
  }

  void replace(const std::vector<std::string>& path, json::value value, const std::string& where) {
    json::value* found = find(document_, path, path.size());
    if (!found) missing(path, path.size(), where);
    *found = std::move(value);
  }

  std::string field(const std::vector<std::string>& path) const {
    return field_of(document_, path, path.size());
  }

 private:
  // What holds the value `path` names: it must exist, as RFC 6902 requires even of add.
  json::value& container_of(const std::vector<std::string>& path, const std::string& where) {
    json::value* parent = find(document_, path, path.size() - 1);
    if (!parent) missing(path, path.size() - 1, where);
    return *parent;
  }

  [[noreturn]] void missing(const std::vector<std::string>& path, std::size_t count,
                            const std::string& where) const {
    const std::string field = field_of(document_, path, count);
    throw PatchFailure{where + ": " + (field.empty() ? "the object" : field) + " does not exist",
                       field};
  }

  [[noreturn]] void not_a_container(const json::value& parent, const std::vector<std::string>& path,
                                    const std::string& where) const {
    throw PatchFailure{where + ": " + field_of(document_, path, path.size() - 1) + " is " +
                           describe_kind(parent) + ", which holds no fields or elements",
                       field_of(document_, path, path.size())};
  }

  json::value document_;
};

const json::string* string_member(const json::object& object, std::string_view key) {
  const auto* member = object.if_contains(key);
  return member ? member->if_string() : nullptr;
}

void apply_operation(JsonDocument& document, const json::value& operation_value,
                     std::size_t number) {
  const std::string ordinal = "JSON patch operation " + std::to_string(number);
  const auto* operation = operation_value.if_object();
  if (!operation)
    throw PatchFailure{ordinal + " is " + describe_kind(operation_value) +
                           ", not an object with \"op\" and \"path\"",
                       ""};
  const auto* op = string_member(*operation, "op");
  if (!op) throw PatchFailure{ordinal + " has no \"op\" string", ""};
  const auto* path_text = string_member(*operation, "path");
  if (!path_text) throw PatchFailure{ordinal + " has no \"path\" string", ""};
  const std::string where = ordinal + " (" + std::string(*op) + " " + std::string(*path_text) + ")";
  const auto path = parse_pointer(*path_text, where);
  const auto value = [&]() -> const json::value& {
    const auto* found = operation->if_contains("value");
    if (!found) throw PatchFailure{where + " has no \"value\"", document.field(path)};
    return *found;
  };
  const auto from = [&] {
    const auto* text = string_member(*operation, "from");
    if (!text) throw PatchFailure{where + " has no \"from\" string", document.field(path)};
    return parse_pointer(*text, where);
  };

  if (*op == "add") {
    document.add(path, value(), where);
  } else if (*op == "remove") {
    document.remove(path, where);
  } else if (*op == "replace") {
    document.replace(path, value(), where);
  } else if (*op == "move") {
    const auto source = from();
    if (source == path) return;
    if (source.size() < path.size() && std::equal(source.begin(), source.end(), path.begin()))
      throw PatchFailure{where + ": a value cannot move into itself", document.field(source)};
    json::value moved = document.remove(source, where);
    document.add(path, std::move(moved), where);
  } else if (*op == "copy") {
    json::value copied = document.at(from(), where);
    document.add(path, std::move(copied), where);
  } else if (*op == "test") {
    const json::value& actual = document.at(path, where);
    if (!same_json(actual, value())) {
      const std::string field = document.field(path);
      throw PatchFailure{where + ": test failed: " + (field.empty() ? "the object" : field) +
                             " is " + excerpt(actual) + ", not " + excerpt(value()),
                         field};
    }
  } else {
    throw PatchFailure{ordinal + " has an unknown op \"" + std::string(*op) +
                           "\" (add, remove, replace, move, copy or test)",
                       ""};
  }
}

json::object json_patch(const json::object& target, const json::value& patch) {
  const auto* operations = patch.if_array();
  if (!operations)
    throw PatchFailure{"a JSON patch is a list of operations, not " + describe_kind(patch), ""};
  JsonDocument document{json::value(target)};
  for (std::size_t i = 0; i < operations->size(); ++i)
    apply_operation(document, (*operations)[i], i + 1);
  if (!document.value().is_object())
    throw PatchFailure{"the patch turns the object into " + describe_kind(document.value()), ""};
  return std::move(document.value().get_object());
}

// ---- Strategic merge patch ----

// How a list field merges, from its patchStrategy and patchMergeKey tags in the API types.
enum class ListMerge {
  Replace,  // no patchStrategy: the patch's list replaces the old one
  ByKey,    // merge, objects: matched by the merge key, merged, new ones added
  Union,    // merge, primitives: the old values and the patch's, each once
};
struct ListRule {
  ListMerge merge = ListMerge::Replace;
  std::string_view key;  // ByKey's merge key
};
// By FieldPath::pattern ("spec.template.spec.containers[].ports").
using ListRules = std::map<std::string, ListRule, std::less<>>;

constexpr ListRule merged_by(std::string_view key) {
  return {ListMerge::ByKey, key};
}

// ObjectMeta's merge lists, under `metadata` ("metadata." or a template's).
void add_object_meta_rules(ListRules& rules, const std::string& metadata) {
  rules[metadata + "finalizers"] = {ListMerge::Union, {}};
  rules[metadata + "ownerReferences"] = merged_by("uid");
}

// PodSpec's merge lists, under `spec` ("spec." of a Pod, "spec.template.spec." of a
// Deployment). Container, EphemeralContainer and init containers share their lists' tags.
void add_pod_spec_rules(ListRules& rules, const std::string& spec) {
  for (const char* containers : {"containers", "initContainers", "ephemeralContainers"}) {
    const std::string list = spec + containers;
    rules[list] = merged_by("name");
    rules[list + "[].ports"] = merged_by("containerPort");
    rules[list + "[].env"] = merged_by("name");
    rules[list + "[].volumeMounts"] = merged_by("mountPath");
    rules[list + "[].volumeDevices"] = merged_by("devicePath");
  }
  rules[spec + "volumes"] = merged_by("name");
  rules[spec + "imagePullSecrets"] = merged_by("name");
  rules[spec + "hostAliases"] = merged_by("ip");
  // Its list-map keys are topologyKey and whenUnsatisfiable; the patch merge key is one.
  rules[spec + "topologySpreadConstraints"] = merged_by("topologyKey");
  rules[spec + "resourceClaims"] = merged_by("name");
  rules[spec + "schedulingGates"] = merged_by("name");
}

ListRules rules_for(std::string_view kind) {
  ListRules rules;
  add_object_meta_rules(rules, "metadata.");
  if (kind == "Service") {
    rules["spec.ports"] = merged_by("port");
    rules["status.conditions"] = merged_by("type");
  } else if (kind == "Pod") {
    add_pod_spec_rules(rules, "spec.");
    rules["status.conditions"] = merged_by("type");
    rules["status.podIPs"] = merged_by("ip");
    rules["status.hostIPs"] = merged_by("ip");
  } else if (kind == "Deployment") {
    add_object_meta_rules(rules, "spec.template.metadata.");
    add_pod_spec_rules(rules, "spec.template.spec.");
    rules["status.conditions"] = merged_by("type");
  }
  return rules;
}

const ListRules& list_rules(std::string_view kind) {
  static const std::map<std::string, ListRules, std::less<>> by_kind = [] {
    std::map<std::string, ListRules, std::less<>> rules;
    for (const char* known : {"Service", "Pod", "Deployment", ""})
      rules.emplace(known, rules_for(known));
    return rules;
  }();
  const auto found = by_kind.find(kind);
  return found != by_kind.end() ? found->second : by_kind.find("")->second;
}

// What identifies a list element: its merge key's value, or in a list of primitives the
// element itself.
struct ElementIdentity {
  std::string_view merge_key;  // empty: the element itself

  const json::value* of(const json::value& element) const {
    if (merge_key.empty()) return &element;
    const auto* object = element.if_object();
    return object ? object->if_contains(merge_key) : nullptr;
  }
  bool same(const json::value& a, const json::value& b) const {
    const auto* a_identity = of(a);
    const auto* b_identity = of(b);
    return a_identity && b_identity && same_json(*a_identity, *b_identity);
  }
};

// Where `list` has `element` (by identity), or -1.
std::ptrdiff_t position_in(const json::array& list, const json::value& element,
                           const ElementIdentity& identity) {
  for (std::size_t i = 0; i < list.size(); ++i)
    if (identity.same(list[i], element)) return static_cast<std::ptrdiff_t>(i);
  return -1;
}

bool contains(const json::array& list, const json::value& element,
              const ElementIdentity& identity) {
  return position_in(list, element, identity) >= 0;
}

// `items` in the order `order` gives them; any it does not name after those, as they were.
std::vector<json::value> sorted_by(std::vector<json::value> items, const json::array& order,
                                   const ElementIdentity& identity) {
  std::vector<std::pair<std::size_t, std::size_t>> ranked;  // (place in order, in items)
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::ptrdiff_t place = position_in(order, items[i], identity);
    ranked.emplace_back(
        place < 0 ? std::numeric_limits<std::size_t>::max() : static_cast<std::size_t>(place), i);
  }
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<json::value> sorted;
  for (const auto& [place, index] : ranked)
    sorted.push_back(std::move(items[index]));
  return sorted;
}

// patch.go's normalizeElementOrder and mergeSortedSlice: the patch's elements in
// `patch_order`, the server-only ones in `server_order` (the list as it was), then the two
// interleaved: a server-only element is placed before the next patch element only when the
// old list had it before that one, so what another client added keeps its neighbourhood.
json::array normalize_element_order(std::vector<json::value> patch_items,
                                    std::vector<json::value> server_only,
                                    const json::array& patch_order, const json::array& server_order,
                                    const ElementIdentity& identity) {
  patch_items = sorted_by(std::move(patch_items), patch_order, identity);
  server_only = sorted_by(std::move(server_only), server_order, identity);
  json::array merged;
  std::size_t next_server = 0;
  std::size_t next_patch = 0;
  while (next_server < server_only.size() || next_patch < patch_items.size()) {
    bool server_first = next_patch == patch_items.size();
    if (!server_first && next_server < server_only.size()) {
      const auto server_place = position_in(server_order, server_only[next_server], identity);
      const auto patch_place = position_in(server_order, patch_items[next_patch], identity);
      server_first = server_place >= 0 && patch_place >= 0 && server_place < patch_place;
    }
    merged.push_back(server_first ? std::move(server_only[next_server++])
                                  : std::move(patch_items[next_patch++]));
  }
  return merged;
}

// `list`'s elements split into those `named` names and the rest, each in `list`'s order.
std::pair<std::vector<json::value>, std::vector<json::value>> partition_by(
    json::array list, const json::array& named, const ElementIdentity& identity) {
  std::vector<json::value> in_named;
  std::vector<json::value> others;
  for (auto& element : list)
    (contains(named, element, identity) ? in_named : others).push_back(std::move(element));
  return {std::move(in_named), std::move(others)};
}

// A map's or list element's $patch directive: "replace", "delete", "merge", or empty when
// it has none.
std::string_view directive_of(const json::object& object, const FieldPath& at) {
  const auto* directive = object.if_contains(kPatchDirective);
  if (!directive) return {};
  const auto* text = directive->if_string();
  if (!text || (*text != "replace" && *text != "delete" && *text != "merge"))
    throw PatchFailure{"$patch is \"replace\", \"delete\" or \"merge\", not " + excerpt(*directive),
                       at.shown};
  return *text;
}

std::string_view directive_of(const json::value& element, const FieldPath& at) {
  const auto* object = element.if_object();
  return object ? directive_of(*object, at) : std::string_view();
}

// The field a parallel-list directive ("$setElementOrder/ports") is about; nullopt when
// `key` is not one of `prefix`.
std::optional<std::string_view> directive_field(std::string_view key, std::string_view prefix,
                                                const FieldPath& at) {
  if (!key.starts_with(prefix)) return std::nullopt;
  const std::string_view rest = key.substr(prefix.size());
  if (rest.size() < 2 || rest.front() != '/')
    throw PatchFailure{
        "\"" + std::string(key) + "\" names no field (" + std::string(prefix) + "/FIELD)",
        at.shown};
  return rest.substr(1);
}

const json::array& directive_list(const json::value& value, std::string_view key,
                                  const FieldPath& at) {
  const auto* list = value.if_array();
  if (!list)
    throw PatchFailure{std::string(key) + " is a list, not " + describe_kind(value), at.shown};
  return *list;
}

// $retainKeys: the map keeps only the fields the list names. kubectl sends it for fields
// whose patchStrategy is retainKeys (a Deployment's strategy, a volume's source), so that
// switching one of a union's members (RollingUpdate to Recreate) drops the old member's
// settings. As in patch.go, the patch may set no field the list leaves out.
void retain_keys(json::object& original, const json::object& patch, const json::value& retain,
                 const FieldPath& at) {
  const auto* names = retain.if_array();
  if (!names || !std::all_of(names->begin(), names->end(),
                             [](const json::value& name) { return name.is_string(); }))
    throw PatchFailure{"$retainKeys is a list of field names, not " + excerpt(retain), at.shown};
  const auto retained = [names](std::string_view key) {
    return std::any_of(names->begin(), names->end(),
                       [key](const json::value& name) { return name.get_string() == key; });
  };
  for (const auto& [key, value] : patch)
    if (!key.starts_with('$') && !value.is_null() && !retained(key))
      throw PatchFailure{"the patch sets " + at.key(key).shown + ", which its $retainKeys " +
                             excerpt(retain) + " does not keep",
                         at.key(key).shown};
  std::vector<std::string> dropped;
  for (const auto& [key, value] : original)
    if (!retained(key)) dropped.emplace_back(key);
  for (const auto& key : dropped)
    original.erase(key);
}

// $setElementOrder/FIELD must list the patch's elements in the order the patch has them
// (patch.go's validatePatchWithSetOrderList); a patch whose two disagree is malformed.
void check_order_agrees(const json::array& patch, const json::array& order,
                        const ElementIdentity& identity, const FieldPath& at) {
  std::size_t next = 0;
  for (const auto& element : patch) {
    if (!directive_of(element, at).empty()) continue;  // deletions and markers have no place
    while (next < order.size() && !identity.same(element, order[next]))
      ++next;
    if (next == order.size())
      throw PatchFailure{"the patch's elements of " + at.shown +
                             " are not in the order its $setElementOrder gives, or are missing "
                             "from it",
                         at.shown};
    ++next;
  }
}

class StrategicMerge {
 public:
  explicit StrategicMerge(const ListRules& rules) : rules_(rules) {}

  // `patch` merged into `original`; nullopt when the patch deletes the map ($patch: delete).
  std::optional<json::object> merge_map(json::object original, const json::object& patch,
                                        const FieldPath& at, int depth) const {
    check_depth(depth, at.shown);
    const std::string_view directive = directive_of(patch, at);
    if (directive == "delete") return std::nullopt;
    if (directive == "replace") original.clear();  // the patch's fields are all that is left
    return merge_fields(std::move(original), patch, at, depth);
  }

 private:
  ListRule rule_at(const FieldPath& at) const {
    const auto found = rules_.find(at.pattern);
    return found != rules_.end() ? found->second : ListRule{};
  }

  json::object merge_fields(json::object original, const json::object& patch, const FieldPath& at,
                            int depth) const {
    if (const auto* retain = patch.if_contains(kRetainKeys))
      retain_keys(original, patch, *retain, at);

    std::map<std::string_view, const json::array*> orders;     // by the field they order
    std::map<std::string_view, const json::array*> deletions;  // by the field they trim
    for (const auto& [key, value] : patch) {
      if (!key.starts_with('$') || key == kPatchDirective || key == kRetainKeys) continue;
      if (const auto field = directive_field(key, kSetElementOrder, at))
        orders[*field] = &directive_list(value, key, at);
      else if (const auto field = directive_field(key, kDeleteFromPrimitiveList, at))
        deletions[*field] = &directive_list(value, key, at);
      else
        throw PatchFailure{"unknown patch directive \"" + std::string(key) + "\"", at.shown};
    }

    for (const auto& [key, value] : patch) {
      if (key.starts_with('$')) continue;
      const FieldPath field = at.key(key);
      json::value* current = original.if_contains(key);
      if (value.is_null()) {
        original.erase(key);
      } else if (const auto* patch_map = value.if_object()) {
        json::object base =
            current && current->is_object() ? std::move(current->get_object()) : json::object();
        auto merged = merge_map(std::move(base), *patch_map, field, depth + 1);
        if (merged)
          original[key] = std::move(*merged);
        else
          original.erase(key);
      } else if (const auto* patch_list = value.if_array()) {
        const json::array base =
            current && current->is_array() ? current->get_array() : json::array();
        json::array merged = merge_list(base, *patch_list, field, depth);
        if (const auto order = orders.find(key); order != orders.end())
          merged = order_elements(std::move(merged), base, patch_list, *order->second, field);
        original[key] = std::move(merged);
      } else {
        original[key] = value;  // scalars replace, as does anything of another type
      }
    }

    // An order for a list the patch leaves alone reorders the old list.
    for (const auto& [key, order] : orders) {
      if (patch.contains(key)) continue;
      json::value* current = original.if_contains(key);
      if (!current || !current->is_array()) continue;
      const json::array base = current->get_array();
      *current = order_elements(base, base, nullptr, *order, at.key(key));
    }

    // After the merge and the ordering, as patch.go does; what is left keeps its order.
    for (const auto& [key, doomed] : deletions) {
      json::value* current = original.if_contains(key);
      if (!current || !current->is_array()) continue;
      json::array kept;
      for (auto& element : current->get_array())
        if (!contains(*doomed, element, ElementIdentity{})) kept.push_back(std::move(element));
      *current = std::move(kept);
    }
    return original;
  }

  json::array merge_list(const json::array& original, const json::array& patch, const FieldPath& at,
                         int depth) const {
    const ListRule rule = rule_at(at);
    switch (rule.merge) {
      case ListMerge::ByKey:
        return merge_by_key(original, patch, rule.key, at, depth);
      case ListMerge::Union:
        return merge_union(original, patch);
      case ListMerge::Replace:
        break;
    }
    return replace_list(patch, at, depth);
  }

  // A list without a merge key is replaced by the patch's. Directive elements have nothing
  // to act on there and are dropped; the elements' own directives still apply to them.
  json::array replace_list(const json::array& patch, const FieldPath& at, int depth) const {
    json::array replaced;
    for (std::size_t i = 0; i < patch.size(); ++i) {
      const FieldPath item = at.item(i);
      const auto* element = patch[i].if_object();
      if (!element) {
        replaced.push_back(patch[i]);
        continue;
      }
      const std::string_view directive = directive_of(*element, item);
      if (directive == "delete" || directive == "replace") continue;
      if (auto cleaned = merge_map({}, *element, item, depth + 1))
        replaced.push_back(std::move(*cleaned));
    }
    return replaced;
  }

  // A list of primitives with patchStrategy merge (metadata.finalizers): every value once.
  static json::array merge_union(const json::array& original, const json::array& patch) {
    const ElementIdentity itself;
    json::array both;
    for (const json::array* list : {&original, &patch})
      for (const auto& element : *list)
        if (!contains(both, element, itself)) both.push_back(element);
    auto [from_patch, server_only] = partition_by(std::move(both), patch, itself);
    return normalize_element_order(std::move(from_patch), std::move(server_only), patch, original,
                                   itself);
  }

  // A list of objects merged by `merge_key` (patch.go's mergeSlice): {key, $patch: delete}
  // deletes the element with that key, {$patch: replace} makes the patch's list the whole
  // list, an element whose key an old one has merges into it, a new one is added.
  json::array merge_by_key(const json::array& original, const json::array& patch,
                           std::string_view merge_key, const FieldPath& at, int depth) const {
    const ElementIdentity identity{merge_key};
    json::array server_order = original;  // less the deleted elements
    json::array plain;                    // the patch's elements without a directive
    std::vector<std::size_t> plain_places;
    bool replace = false;
    for (std::size_t i = 0; i < patch.size(); ++i) {
      const FieldPath item = at.item(i);
      const auto* element = patch[i].if_object();
      if (!element)
        throw PatchFailure{"the elements of " + at.shown + " are objects merged by \"" +
                               std::string(merge_key) + "\", not " + describe_kind(patch[i]),
                           item.shown};
      const std::string_view directive = directive_of(*element, item);
      if (directive == "replace") {
        replace = true;
      } else if (directive == "delete") {
        if (!element->contains(merge_key)) missing_merge_key(item, merge_key);
        json::array kept;
        for (auto& old : server_order)
          if (!identity.same(old, patch[i])) kept.push_back(std::move(old));
        server_order = std::move(kept);
      } else {
        plain.push_back(patch[i]);
        plain_places.push_back(i);
      }
    }

    if (replace) {
      json::array replaced;
      for (std::size_t k = 0; k < plain.size(); ++k)
        if (auto cleaned =
                merge_map({}, plain[k].get_object(), at.item(plain_places[k]), depth + 1))
          replaced.push_back(std::move(*cleaned));
      return replaced;
    }

    json::array merged = server_order;
    for (std::size_t k = 0; k < plain.size(); ++k) {
      const FieldPath item = at.item(plain_places[k]);
      const json::object& element = plain[k].get_object();
      if (!element.contains(merge_key)) missing_merge_key(item, merge_key);
      const std::ptrdiff_t place = position_in(merged, plain[k], identity);
      if (place >= 0) {
        json::value& old = merged[static_cast<std::size_t>(place)];
        if (auto merged_element = merge_map(std::move(old.get_object()), element, item, depth + 1))
          old = std::move(*merged_element);
      } else if (auto added = merge_map({}, element, item, depth + 1)) {
        merged.push_back(std::move(*added));
      }
    }
    auto [from_patch, server_only] = partition_by(std::move(merged), plain, identity);
    return normalize_element_order(std::move(from_patch), std::move(server_only), plain,
                                   server_order, identity);
  }

  [[noreturn]] static void missing_merge_key(const FieldPath& item, std::string_view merge_key) {
    throw PatchFailure{
        item.shown + " has no \"" + std::string(merge_key) + "\", the merge key of its list",
        item.shown};
  }

  // $setElementOrder/FIELD (patch.go's mergePatchIntoOriginal): the merged list in the order
  // the patch gives, which kubectl apply takes from the list as the user last applied it;
  // elements the order does not name (added by another client) keep their place beside
  // the elements they were next to. `patch` is the patch's list, if it has one.
  json::array order_elements(json::array merged, const json::array& original,
                             const json::array* patch, const json::array& order,
                             const FieldPath& at) const {
    const ListRule rule = rule_at(at);
    const ElementIdentity identity{rule.merge == ListMerge::ByKey ? rule.key : std::string_view()};
    if (identity.merge_key.empty()) {
      // Without a merge key only primitives can be told apart.
      const auto structured = [](const json::value& v) { return v.is_object() || v.is_array(); };
      if (std::any_of(merged.begin(), merged.end(), structured) ||
          std::any_of(order.begin(), order.end(), structured))
        return merged;
    } else {
      for (std::size_t i = 0; i < order.size(); ++i)
        if (!identity.of(order[i]))
          throw PatchFailure{"$setElementOrder of " + at.shown + " names its elements by \"" +
                                 std::string(identity.merge_key) + "\"; element " +
                                 std::to_string(i) + " has none",
                             at.shown};
    }
    if (patch) check_order_agrees(*patch, order, identity, at);
    auto [named, server_only] = partition_by(std::move(merged), order, identity);
    return normalize_element_order(std::move(named), std::move(server_only), order, original,
                                   identity);
  }

  const ListRules& rules_;
};

json::object strategic_merge(const json::object& target, const json::value& patch,
                             std::string_view kind) {
  const auto* patch_map = patch.if_object();
  if (!patch_map)
    throw PatchFailure{"a strategic merge patch is an object, not " + describe_kind(patch), ""};
  auto merged = StrategicMerge(list_rules(kind)).merge_map(target, *patch_map, FieldPath{}, 0);
  if (!merged) throw PatchFailure{"$patch: delete cannot delete the whole object", ""};
  return std::move(*merged);
}

std::string_view trimmed(std::string_view text) {
  const auto is_space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  while (!text.empty() && is_space(text.front()))
    text.remove_prefix(1);
  while (!text.empty() && is_space(text.back()))
    text.remove_suffix(1);
  return text;
}

}  // namespace

std::optional<PatchType> patch_type(std::string_view content_type) {
  std::string media(trimmed(content_type.substr(0, content_type.find(';'))));
  std::transform(media.begin(), media.end(), media.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (media == "application/merge-patch+json") return PatchType::Merge;
  if (media == "application/strategic-merge-patch+json") return PatchType::StrategicMerge;
  if (media == "application/json-patch+json") return PatchType::Json;
  return std::nullopt;
}

PatchOutcome apply_patch(const json::object& target, const json::value& patch, PatchType type,
                         std::string_view kind) {
  try {
    switch (type) {
      case PatchType::Merge: {
        if (!patch.is_object())
          throw PatchFailure{"a merge patch is an object, not " + describe_kind(patch), ""};
        json::value merged = merge_patch(json::value(target), patch, FieldPath{}, 0);
        return {std::move(merged.get_object()), "", ""};
      }
      case PatchType::StrategicMerge:
        return {strategic_merge(target, patch, kind), "", ""};
      case PatchType::Json:
        return {json_patch(target, patch), "", ""};
    }
    return {std::nullopt, "unknown patch type", ""};
  } catch (const PatchFailure& failure) {
    return {std::nullopt, failure.error, failure.field};
  } catch (const std::exception& e) {
    // Boost.JSON's or the library's own (memory, lengths): still an answer, not a throw.
    return {std::nullopt, std::string("the patch could not be applied: ") + e.what(), ""};
  }
}

}  // namespace svcproxy::server

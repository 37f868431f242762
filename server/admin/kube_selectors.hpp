// Kubernetes' label and field selectors as kubectl sends them (`-l`, `--field-selector`),
// parsed once per request and matched per object. Labels: `k=v`, `k==v`, `k!=v`,
// `k in (a,b)`, `k notin (a,b)`, `k`, `!k`, comma-separated (all must hold), as
// k8s.io/apimachinery/pkg/labels. Fields: `f=v`, `f==v`, `f!=v` over the fields a resource
// supports (metadata.name and metadata.namespace for every one). Pure.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "conf/model.hpp"

namespace svcproxy::server {

class LabelSelector {
 public:
  // nullopt, with `error` set, for a selector Kubernetes would reject.
  static std::optional<LabelSelector> parse(std::string_view text, std::string& error);
  bool matches(const conf::Labels& labels) const;

 private:
  enum class Op { Equals, NotEquals, In, NotIn, Exists, DoesNotExist };
  struct Requirement {
    std::string key;
    Op op = Op::Exists;
    std::vector<std::string> values;
  };
  std::vector<Requirement> requirements_;
};

class FieldSelector {
 public:
  static std::optional<FieldSelector> parse(std::string_view text, std::string& error);
  // The fields this selector names (to refuse the ones a resource does not support).
  std::vector<std::string> fields() const;
  // `value_of` answers a field's value for the object (nullopt: the object has none).
  template <typename ValueOf>
  bool matches(ValueOf&& value_of) const {
    for (const auto& term : terms_) {
      const std::optional<std::string> value = value_of(term.field);
      if ((value && *value == term.value) == term.negated) return false;
    }
    return true;
  }

 private:
  struct Term {
    std::string field;
    std::string value;
    bool negated = false;
  };
  std::vector<Term> terms_;
};

}  // namespace svcproxy::server

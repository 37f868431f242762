#include "server/admin/kube_selectors.hpp"

#include <algorithm>
#include <cctype>

namespace svcproxy::server {
namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  return text;
}

// The selector's terms at the commas outside parentheses.
std::vector<std::string_view> split_terms(std::string_view text) {
  std::vector<std::string_view> terms;
  int depth = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || (text[i] == ',' && depth == 0)) {
      terms.push_back(trim(text.substr(start, i - start)));
      start = i + 1;
    } else if (text[i] == '(') {
      ++depth;
    } else if (text[i] == ')') {
      --depth;
    }
  }
  return terms;
}

// A label key or value's characters (validation of their exact syntax is the writer's job:
// a selector that names no label matches nothing, as in Kubernetes).
bool is_token(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
           c == '/';
  });
}

bool is_value(std::string_view text) {
  return text.empty() || is_token(text);
}

}  // namespace

std::optional<LabelSelector> LabelSelector::parse(std::string_view text, std::string& error) {
  LabelSelector selector;
  if (trim(text).empty()) return selector;
  for (const std::string_view term : split_terms(text)) {
    Requirement requirement;
    const auto fail = [&] {
      error = "unable to parse requirement: \"" + std::string(term) + "\"";
      return std::nullopt;
    };
    if (term.starts_with("!")) {
      requirement.key = std::string(trim(term.substr(1)));
      requirement.op = Op::DoesNotExist;
      if (!is_token(requirement.key)) return fail();
    } else if (const auto op = term.find_first_of("=!"); op != std::string_view::npos) {
      requirement.key = std::string(trim(term.substr(0, op)));
      std::size_t value_at = op + 1;
      if (term[op] == '!') {
        if (op + 1 >= term.size() || term[op + 1] != '=') return fail();
        requirement.op = Op::NotEquals;
        value_at = op + 2;
      } else {
        requirement.op = Op::Equals;
        if (op + 1 < term.size() && term[op + 1] == '=') value_at = op + 2;
      }
      requirement.values.emplace_back(trim(term.substr(value_at)));
      if (!is_token(requirement.key) || !is_value(requirement.values.back())) return fail();
    } else if (const auto open = term.find('('); open != std::string_view::npos) {
      if (!term.ends_with(")")) return fail();
      const std::string_view head = trim(term.substr(0, open));
      const auto space = head.find_last_of(" \t");
      if (space == std::string_view::npos) return fail();
      requirement.key = std::string(trim(head.substr(0, space)));
      const std::string_view op_name = head.substr(space + 1);
      if (op_name == "in")
        requirement.op = Op::In;
      else if (op_name == "notin")
        requirement.op = Op::NotIn;
      else
        return fail();
      const std::string_view list = term.substr(open + 1, term.size() - open - 2);
      for (const std::string_view value : split_terms(list)) {
        if (!is_value(value)) return fail();
        requirement.values.emplace_back(value);
      }
      if (!is_token(requirement.key)) return fail();
    } else {
      requirement.key = std::string(term);
      requirement.op = Op::Exists;
      if (!is_token(requirement.key)) return fail();
    }
    selector.requirements_.push_back(std::move(requirement));
  }
  return selector;
}

bool LabelSelector::matches(const conf::Labels& labels) const {
  for (const auto& requirement : requirements_) {
    const auto found = labels.find(requirement.key);
    const bool has = found != labels.end();
    const auto in_values = [&] {
      return has && std::find(requirement.values.begin(), requirement.values.end(),
                              found->second) != requirement.values.end();
    };
    bool ok = true;
    switch (requirement.op) {
      case Op::Equals:
      case Op::In:
        ok = in_values();
        break;
      case Op::NotEquals:
      case Op::NotIn:
        ok = !in_values();
        break;
      case Op::Exists:
        ok = has;
        break;
      case Op::DoesNotExist:
        ok = !has;
        break;
    }
    if (!ok) return false;
  }
  return true;
}

std::optional<FieldSelector> FieldSelector::parse(std::string_view text, std::string& error) {
  FieldSelector selector;
  if (trim(text).empty()) return selector;
  for (const std::string_view term : split_terms(text)) {
    Term parsed;
    std::size_t op = term.find("!=");
    std::size_t value_at = 0;
    if (op != std::string_view::npos) {
      parsed.negated = true;
      value_at = op + 2;
    } else if ((op = term.find("==")) != std::string_view::npos) {
      value_at = op + 2;
    } else if ((op = term.find('=')) != std::string_view::npos) {
      value_at = op + 1;
    } else {
      error = "invalid selector: '" + std::string(text) + "'; can't understand '" +
              std::string(term) + "'";
      return std::nullopt;
    }
    parsed.field = std::string(trim(term.substr(0, op)));
    parsed.value = std::string(trim(term.substr(value_at)));
    selector.terms_.push_back(std::move(parsed));
  }
  return selector;
}

std::vector<std::string> FieldSelector::fields() const {
  std::vector<std::string> fields;
  for (const auto& term : terms_)
    fields.push_back(term.field);
  return fields;
}

}  // namespace svcproxy::server

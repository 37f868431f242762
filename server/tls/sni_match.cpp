#include "server/tls/sni_match.hpp"

#include <boost/beast/core/string.hpp>

namespace svcproxy::server {
namespace {

// How well `pattern` matches `name`: 0 for no match; an exact match outranks every
// wildcard, and a wildcard ranks by the length of the suffix it fixes.
std::size_t match_rank(std::string_view pattern, std::string_view name) {
  if (boost::beast::iequals(pattern, name)) return 1'000'000 + pattern.size();
  if (!pattern.starts_with("*.") || pattern.size() < 4) return 0;
  const std::string_view suffix = pattern.substr(1);  // ".example.com"
  if (name.size() <= suffix.size()) return 0;
  const std::string_view label = name.substr(0, name.size() - suffix.size());
  if (label.find('.') != std::string_view::npos) return 0;  // one label only
  return boost::beast::iequals(name.substr(label.size()), suffix) ? suffix.size() : 0;
}

}  // namespace

std::optional<std::size_t> choose_certificate(const std::vector<std::vector<std::string>>& names,
                                              std::string_view server_name) {
  if (server_name.empty()) return std::nullopt;
  std::optional<std::size_t> best;
  std::size_t best_rank = 0;
  for (std::size_t i = 0; i < names.size(); ++i)
    for (const auto& pattern : names[i]) {
      const std::size_t rank = match_rank(pattern, server_name);
      if (rank > best_rank) {
        best_rank = rank;
        best = i;
      }
    }
  return best;
}

}  // namespace svcproxy::server

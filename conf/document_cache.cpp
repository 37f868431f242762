#include "conf/document_cache.hpp"

#include <algorithm>

namespace svcproxy::conf {
namespace {

constexpr auto by_line = [](const auto& a, const auto& b) { return a.first_line < b.first_line; };

}  // namespace

const DocumentCache::Contribution* DocumentCache::find(const std::string& file, int first_line,
                                                       std::string_view text) {
  const auto previous = previous_.find(file);
  if (previous == previous_.end()) return nullptr;
  Entries& slots = previous->second;
  auto it = std::lower_bound(slots.begin(), slots.end(), Slot{first_line, nullptr}, by_line);
  for (; it != slots.end() && it->first_line == first_line; ++it) {
    if (it->entry && it->entry->text == text) {
      Entries& used = current_[file];
      used.push_back(std::move(*it));
      return &used.back().entry->contribution;
    }
  }
  return nullptr;
}

void DocumentCache::store(const std::string& file, int first_line, std::string_view text,
                          Contribution contribution) {
  current_[file].push_back(
      {first_line, std::make_unique<Entry>(Entry{std::string(text), std::move(contribution)})});
}

void DocumentCache::end_load() {
  // A load finds entries in line order and stores the new ones after: sort them together.
  for (auto& [file, slots] : current_)
    if (!std::is_sorted(slots.begin(), slots.end(), by_line))
      std::stable_sort(slots.begin(), slots.end(), by_line);
  previous_ = std::move(current_);
  current_.clear();
}

std::size_t DocumentCache::size() const {
  std::size_t count = 0;
  for (const auto& [file, slots] : previous_)
    count += slots.size();
  return count;
}

}  // namespace svcproxy::conf

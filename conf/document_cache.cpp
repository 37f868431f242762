#include "conf/document_cache.hpp"

#include <algorithm>

namespace svcproxy::conf {
namespace {

constexpr auto by_line = [](const auto& a, const auto& b) { return a.first_line < b.first_line; };

}  // namespace

const DocumentCache::Contribution* DocumentCache::find(const std::string& file, int first_line,
                                                       std::string_view text) {
  const auto known = files_.find(file);
  if (known == files_.end()) return nullptr;
  Entries& slots = known->second;
  auto it = std::lower_bound(slots.begin(), slots.end(), Slot{first_line, 0, nullptr}, by_line);
  for (; it != slots.end() && it->first_line == first_line; ++it) {
    if (it->entry->text == text) {
      it->used_by = load_;
      return &it->entry->contribution;
    }
  }
  return nullptr;
}

void DocumentCache::store(const std::string& file, int first_line, std::string_view text,
                          Contribution contribution) {
  files_[file].push_back(
      {first_line, load_,
       std::make_unique<Entry>(Entry{std::string(text), std::move(contribution)})});
}

void DocumentCache::end_load() {
  for (auto file = files_.begin(); file != files_.end();) {
    Entries& slots = file->second;
    std::erase_if(slots, [&](const Slot& slot) { return slot.used_by != load_; });
    if (slots.empty()) {
      file = files_.erase(file);
      continue;
    }
    // A load stores its new entries after the ones it found: keep each file in line order.
    if (!std::is_sorted(slots.begin(), slots.end(), by_line))
      std::stable_sort(slots.begin(), slots.end(), by_line);
    ++file;
  }
  ++load_;
}

std::size_t DocumentCache::size() const {
  std::size_t count = 0;
  for (const auto& [file, slots] : files_)
    count += slots.size();
  return count;
}

}  // namespace svcproxy::conf

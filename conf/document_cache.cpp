#include "conf/document_cache.hpp"

#include <functional>

namespace svcproxy::conf {

std::size_t DocumentCache::key(const std::string& file, int first_line, std::string_view text) {
  const std::size_t h = std::hash<std::string_view>{}(text);
  return h ^ (std::hash<std::string>{}(file)*31 + static_cast<std::size_t>(first_line));
}

const DocumentCache::Contribution* DocumentCache::find(const std::string& file, int first_line,
                                                       std::string_view text) {
  auto [begin, end] = entries_.equal_range(key(file, first_line, text));
  for (auto it = begin; it != end; ++it) {
    Entry& entry = it->second;
    if (entry.first_line == first_line && entry.file == file && entry.text == text) {
      entry.used = true;
      return &entry.contribution;
    }
  }
  return nullptr;
}

void DocumentCache::store(const std::string& file, int first_line, std::string_view text,
                          Contribution contribution) {
  entries_.emplace(key(file, first_line, text),
                   Entry{file, first_line, std::string(text), std::move(contribution), true});
}

void DocumentCache::end_load() {
  std::erase_if(entries_, [](const auto& item) { return !item.second.used; });
  for (auto& [hash, entry] : entries_)
    entry.used = false;
}

}  // namespace svcproxy::conf

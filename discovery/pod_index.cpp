#include "discovery/pod_index.hpp"

#include <algorithm>

namespace svcproxy::discovery {

PodIndex::PodIndex(const std::vector<conf::Pod>& pods) : PodIndex(pods, true) {}

PodIndex::PodIndex(const conf::PodList& pods) : PodIndex(pods, true) {}

PodIndex PodIndex::scanning(const conf::PodList& pods) {
  return PodIndex(pods, false);
}

// Up to this many Services, scanning the pods beats indexing them.
constexpr std::size_t kMaxScannedServices = 8;

PodIndex PodIndex::for_services(const conf::PodList& pods, std::size_t services) {
  return PodIndex(pods, services > kMaxScannedServices);
}

template <typename Pods>
PodIndex::PodIndex(const Pods& pods, bool indexed) : indexed_(indexed) {
  pods_.reserve(pods.size());
  for (const conf::Pod& pod : pods)
    pods_.push_back(&pod);
  if (!indexed) return;
  for (std::size_t i = 0; i < pods.size(); ++i)
    for (const auto& [label, value] : pods[i].labels)
      postings_[posting_key(pods[i].namespace_name, label, value)].push_back(i);
}

std::string PodIndex::posting_key(const std::string& namespace_name, const std::string& label,
                                  const std::string& value) {
  std::string key = namespace_name;
  key += '\0';
  key += label;
  key += '\0';
  key += value;
  return key;
}

std::vector<const conf::Pod*> PodIndex::select(const std::string& namespace_name,
                                               const conf::Labels& selector) const {
  std::vector<const conf::Pod*> selected;
  if (!indexed_) {
    if (selector.empty()) return selected;
    for (const conf::Pod* pod : pods_)
      if (pod->namespace_name == namespace_name && conf::labels_contain(pod->labels, selector))
        selected.push_back(pod);
    return selected;
  }
  // Walk the shortest posting list and check the other pairs on its pods only.
  const std::vector<std::size_t>* shortest = nullptr;
  for (const auto& [label, value] : selector) {
    const auto found = postings_.find(posting_key(namespace_name, label, value));
    if (found == postings_.end()) return {};
    if (!shortest || found->second.size() < shortest->size()) shortest = &found->second;
  }
  if (!shortest) return selected;
  for (const std::size_t i : *shortest) {
    if (conf::labels_contain(pods_[i]->labels, selector)) selected.push_back(pods_[i]);
  }
  return selected;
}

}  // namespace svcproxy::discovery

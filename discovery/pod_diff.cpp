#include "discovery/pod_diff.hpp"

#include <map>
#include <string>

namespace svcproxy::discovery {
namespace {

using PodIndex = std::map<std::string, const conf::Pod*>;  // by key()

PodIndex index(const std::vector<conf::Pod>& pods) {
  PodIndex by_key;
  for (const auto& pod : pods)
    by_key.emplace(pod.key(), &pod);
  return by_key;
}

// Whether `pod` has a counterpart with the same key and address in `other`.
bool kept(const conf::Pod& pod, const PodIndex& other) {
  const auto found = other.find(pod.key());
  return found != other.end() && found->second->pod_ip == pod.pod_ip;
}

}  // namespace

PodDiff diff_pods(const std::vector<conf::Pod>& current, const std::vector<conf::Pod>& desired) {
  const PodIndex current_index = index(current);
  const PodIndex desired_index = index(desired);
  PodDiff diff;
  for (const auto& pod : desired)
    if (!kept(pod, current_index)) diff.added.push_back(pod);
  for (const auto& pod : current)
    if (!kept(pod, desired_index)) diff.removed.push_back(pod);
  return diff;
}

}  // namespace svcproxy::discovery

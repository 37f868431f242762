#include "conf/cross_document.hpp"

#include <unordered_map>

namespace svcproxy::conf {
namespace {

std::string describe(const SourceLocation& location) {
  return location.file + ":" + std::to_string(location.line) + ":" +
         std::to_string(location.column);
}

template <typename Object>
void check_unique(const std::vector<Object>& objects, const char* kind, Diagnostics& errors) {
  // Hashed: 50,000 Pods make an ordered map of their names a measurable part of a reload.
  std::unordered_map<std::string, const Object*> first_by_key;
  first_by_key.reserve(objects.size());
  for (const Object& object : objects) {
    if (object.name.empty()) continue;  // already reported as missing
    const std::string key = object.namespace_name + "/" + object.name;
    auto [first, inserted] = first_by_key.emplace(key, &object);
    if (!inserted)
      errors.push_back({object.location, "metadata.name",
                        std::string("duplicate ") + kind + " " + key + " (first defined at " +
                            describe(first->second->location) + ")"});
  }
}

const Deployment* owning_deployment(const Pod& pod, const std::vector<Deployment>& deployments) {
  for (const auto& deployment : deployments) {
    if (deployment.namespace_name != pod.namespace_name || deployment.match_labels.empty())
      continue;
    if (labels_contain(pod.labels, deployment.match_labels)) return &deployment;
  }
  return nullptr;
}

}  // namespace

void check_duplicate_names(const Snapshot& snapshot, Diagnostics& errors) {
  check_unique(snapshot.services, "Service", errors);
  check_unique(snapshot.pods, "Pod", errors);
  check_unique(snapshot.deployments, "Deployment", errors);
  check_unique(snapshot.secrets, "Secret", errors);
}

void inherit_deployment_templates(Snapshot& snapshot) {
  for (auto& pod : snapshot.pods) {
    if (!pod.containers.empty()) continue;
    if (const Deployment* owner = owning_deployment(pod, snapshot.deployments)) {
      pod.containers = owner->containers;
      pod.owner_deployment = owner->name;
    }
  }
}

}  // namespace svcproxy::conf

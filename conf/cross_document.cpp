#include "conf/cross_document.hpp"

#include <bit>
#include <functional>
#include <string_view>

namespace svcproxy::conf {
namespace {

std::string describe(const SourceLocation& location) {
  return location.file + ":" + std::to_string(location.line) + ":" +
         std::to_string(location.column);
}

// The first object of each namespace/name, in an open-addressing table of positions: one
// allocation for 50,000 Pods, where a map of their names was a measurable part of a reload.
template <typename Object>
class FirstByName {
 public:
  explicit FirstByName(const std::vector<Object>& objects)
      : objects_(objects), slots_(std::bit_ceil(2 * objects.size() + 2), kEmpty) {}

  // The first object with this one's namespace and name; `object` itself when it is.
  const Object& first(const Object& object) {
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t slot = hash(object) & mask;; slot = (slot + 1) & mask) {
      if (slots_[slot] == kEmpty) {
        slots_[slot] = static_cast<std::size_t>(&object - objects_.data());
        return object;
      }
      const Object& seen = objects_[slots_[slot]];
      if (seen.name == object.name && seen.namespace_name == object.namespace_name) return seen;
    }
  }

 private:
  static constexpr std::size_t kEmpty = static_cast<std::size_t>(-1);
  static std::size_t hash(const Object& object) {
    const std::hash<std::string_view> h;
    return h(object.namespace_name) * 31 + h(object.name);
  }

  const std::vector<Object>& objects_;
  std::vector<std::size_t> slots_;
};

template <typename Object>
void check_unique(const std::vector<Object>& objects, const char* kind, Diagnostics& errors) {
  FirstByName<Object> first_by_name(objects);
  for (const Object& object : objects) {
    if (object.name.empty()) continue;  // already reported as missing
    const Object& first = first_by_name.first(object);
    if (&first != &object)
      errors.push_back({object.location, "metadata.name",
                        std::string("duplicate ") + kind + " " + object.namespace_name + "/" +
                            object.name + " (first defined at " + describe(first.location) + ")"});
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

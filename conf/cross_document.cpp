#include "conf/cross_document.hpp"

#include <bit>
#include <functional>
#include <map>
#include <set>
#include <string_view>

namespace svcproxy::conf {
namespace {

std::string describe(const SourceLocation& location) {
  return location.file + ":" + std::to_string(location.line) + ":" +
         std::to_string(location.column);
}

// The first object of each namespace/name, in an open-addressing table of positions: one
// allocation for 50,000 Pods, where a map of their names was a measurable part of a reload.
// `Objects` is a std::vector or a SharedList.
template <typename Objects>
class FirstByName {
 public:
  explicit FirstByName(const Objects& objects)
      : objects_(objects), slots_(std::bit_ceil(2 * objects.size() + 2), kEmpty) {}

  // The position of the first object with the namespace and name of the one at `index`;
  // `index` itself when it is.
  std::size_t first(std::size_t index) {
    const auto& object = objects_[index];
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t slot = hash(object) & mask;; slot = (slot + 1) & mask) {
      if (slots_[slot] == kEmpty) {
        slots_[slot] = index;
        return index;
      }
      const auto& seen = objects_[slots_[slot]];
      if (seen.name == object.name && seen.namespace_name == object.namespace_name)
        return slots_[slot];
    }
  }

 private:
  static constexpr std::size_t kEmpty = static_cast<std::size_t>(-1);
  template <typename Object>
  static std::size_t hash(const Object& object) {
    const std::hash<std::string_view> h;
    return h(object.namespace_name) * 31 + h(object.name);
  }

  const Objects& objects_;
  std::vector<std::size_t> slots_;
};

template <typename Objects>
void check_unique(const Objects& objects, const char* kind, Diagnostics& errors) {
  FirstByName<Objects> first_by_name(objects);
  for (std::size_t i = 0; i < objects.size(); ++i) {
    const auto& object = objects[i];
    if (object.name.empty()) continue;  // already reported as missing
    const std::size_t first = first_by_name.first(i);
    if (first != i)
      errors.push_back({object.location, "metadata.name",
                        std::string("duplicate ") + kind + " " + object.namespace_name + "/" +
                            object.name + " (first defined at " +
                            describe(objects[first].location) + ")"});
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

void check_tls_secrets(const Snapshot& snapshot, Diagnostics& errors) {
  std::map<std::string, const TlsSecret*> secrets;
  for (const auto& secret : snapshot.secrets)
    secrets.emplace(secret.key(), &secret);
  for (const auto& service : snapshot.services) {
    for (const auto& name : service.tls_secrets) {
      const auto found = secrets.find(service.namespace_name + "/" + name);
      if (found == secrets.end() || !found->second->key_pair)
        errors.push_back(
            {service.tls_location, "metadata.annotations.svcproxy.io/tls-secret",
             "Secret " + service.namespace_name + "/" + name +
                 (found == secrets.end() ? " not found" : " is not of type kubernetes.io/tls") +
                 " (a kubernetes.io/tls Secret of the Service's own namespace)"});
    }
    const std::string& ca = service.backend_tls.ca_secret;
    if (ca.empty()) continue;
    const auto found = secrets.find(service.namespace_name + "/" + ca);
    if (found == secrets.end() || found->second->ca_pem.empty())
      errors.push_back({service.backend_tls.location,
                        "metadata.annotations.svcproxy.io/backend-ca-secret",
                        "Secret " + service.namespace_name + "/" + ca +
                            (found == secrets.end() ? " not found" : " has no ca.crt") +
                            " (a Secret of the Service's own namespace with the CA bundle that "
                            "signed the pods' certificates in ca.crt)"});
  }
}

void check_duplicate_names(const Snapshot& snapshot, Diagnostics& errors) {
  check_unique(snapshot.services, "Service", errors);
  check_unique(snapshot.pods, "Pod", errors);
  check_unique(snapshot.deployments, "Deployment", errors);
  check_unique(snapshot.secrets, "Secret", errors);
}

// Only the pods that inherit get objects of their own (SharedList::mutate); the others stay
// shared with the document cache.
void inherit_deployment_templates(Snapshot& snapshot) {
  for (std::size_t i = 0; i < snapshot.pods.size(); ++i) {
    if (!snapshot.pods[i].containers.empty()) continue;
    if (const Deployment* owner = owning_deployment(snapshot.pods[i], snapshot.deployments)) {
      Pod& pod = snapshot.pods.mutate(i);
      pod.containers = owner->containers;
      pod.owner_deployment = owner->name;
    }
  }
}

}  // namespace svcproxy::conf

#include "cluster/registry_layout.hpp"

#include <array>
#include <utility>

namespace svcproxy::cluster {
namespace {

struct KindPlace {
  StoredKind kind;
  const char* manifest_kind;
  const char* kubectl;
  const char* folder;  // under the prefix, with a trailing '/'
  bool namespaced;
};

constexpr std::array<KindPlace, 6> kPlaces{{
    {StoredKind::Service, "Service", "service", "/services/specs/", true},
    {StoredKind::Pod, "Pod", "pod", "/pods/", true},
    {StoredKind::Deployment, "Deployment", "deployment.apps", "/deployments/", true},
    {StoredKind::Secret, "Secret", "secret", "/secrets/", true},
    {StoredKind::Node, "Node", "node", "/minions/", false},
    {StoredKind::Lease, "Lease", "lease.coordination.k8s.io", "/leases/", true},
}};

const KindPlace& place(StoredKind kind) {
  return kPlaces[static_cast<std::size_t>(kind)];
}

}  // namespace

std::optional<StoredKind> stored_kind(std::string_view manifest_kind) {
  for (const auto& entry : kPlaces)
    if (manifest_kind == entry.manifest_kind) return entry.kind;
  return std::nullopt;
}

const char* kubectl_name(StoredKind kind) {
  return place(kind).kubectl;
}

RegistryLayout::RegistryLayout(std::string prefix) : prefix_(std::move(prefix)) {
  while (prefix_.size() > 1 && prefix_.back() == '/')
    prefix_.pop_back();
  if (prefix_ == "/") prefix_.clear();
}

std::string RegistryLayout::object_key(StoredKind kind, std::string_view namespace_name,
                                       std::string_view name) const {
  const KindPlace& where = place(kind);
  std::string key = prefix_ + where.folder;
  if (where.namespaced) {
    key += namespace_name;
    key += '/';
  }
  key += name;
  return key;
}

std::string RegistryLayout::folder(StoredKind kind) const {
  return prefix_ + place(kind).folder;
}

std::string RegistryLayout::object_key(const ObjectKey& object) const {
  return object_key(object.kind, object.namespace_name, object.name);
}

std::optional<ObjectKey> RegistryLayout::parse(std::string_view key) const {
  if (key.substr(0, prefix_.size()) != prefix_) return std::nullopt;
  key.remove_prefix(prefix_.size());
  for (const auto& entry : kPlaces) {
    const std::string_view folder = entry.folder;
    if (key.substr(0, folder.size()) != folder) continue;
    std::string_view rest = key.substr(folder.size());
    ObjectKey object{entry.kind, {}, {}};
    if (entry.namespaced) {
      const auto slash = rest.find('/');
      if (slash == std::string_view::npos || slash == 0) return std::nullopt;
      object.namespace_name = std::string(rest.substr(0, slash));
      rest.remove_prefix(slash + 1);
    }
    if (rest.empty() || rest.find('/') != std::string_view::npos) return std::nullopt;
    object.name = std::string(rest);
    return object;
  }
  return std::nullopt;
}

std::string RegistryLayout::cluster_ip_key(std::string_view ip) const {
  return cluster_ips_prefix() + std::string(ip);
}

std::string RegistryLayout::node_port_key(int port) const {
  return node_ports_prefix() + std::to_string(port);
}

}  // namespace svcproxy::cluster

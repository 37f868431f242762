// Where objects live in etcd: kube-apiserver's key layout under a configurable prefix
// (default /registry), plus svcproxy's allocation keys (one key per ClusterIP and per
// NodePort, so two Services claim different keys and never contend on one bitmap).
// Pure; any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace svcproxy::cluster {

// The kinds stored in etcd, and how kubectl names them ("service/web",
// "deployment.apps/web").
enum class StoredKind { Service, Pod, Deployment, Secret, Node, Lease };

struct ObjectKey {
  StoredKind kind = StoredKind::Service;
  std::string namespace_name;  // empty for a Node; "kube-node-lease" for a Lease
  std::string name;
};

std::optional<StoredKind> stored_kind(std::string_view manifest_kind);
const char* kubectl_name(StoredKind kind);  // "service", "deployment.apps", ...

class RegistryLayout {
 public:
  explicit RegistryLayout(std::string prefix = "/registry");

  const std::string& prefix() const { return prefix_; }
  // Everything svcproxy keeps: what a node lists and watches ("<prefix>/").
  std::string root() const { return prefix_ + "/"; }

  std::string object_key(const ObjectKey& object) const;
  std::string object_key(StoredKind kind, std::string_view namespace_name,
                         std::string_view name) const;
  // The object a key holds; nullopt for allocation keys and anything unknown.
  std::optional<ObjectKey> parse(std::string_view key) const;

  // Where every object of `kind` lives: "<prefix>/pods/", "<prefix>/services/specs/", ...
  std::string folder(StoredKind kind) const;

  std::string cluster_ip_key(std::string_view ip) const;
  std::string node_port_key(int port) const;
  std::string cluster_ips_prefix() const { return prefix_ + "/ranges/serviceips/"; }
  std::string node_ports_prefix() const { return prefix_ + "/ranges/servicenodeports/"; }
  std::string nodes_prefix() const { return prefix_ + "/minions/"; }
  std::string node_leases_prefix() const { return prefix_ + "/leases/kube-node-lease/"; }

 private:
  std::string prefix_;
};

}  // namespace svcproxy::cluster

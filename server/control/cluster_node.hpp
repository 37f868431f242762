// A node in cluster mode: the etcd client, the node's copy of the cluster state
// (ClusterSync), its registration (NodeRegistration) and the Ready verdicts it writes for
// its own pods (PodStatusWriter), seen from the Proxy as a few questions: which documents
// to load besides the files, which nodes an edge sends to, and who decides whether a pod
// is ready. Control thread only.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cluster/cluster_stats.hpp"
#include "cluster/cluster_sync.hpp"
#include "cluster/etcd_client.hpp"
#include "cluster/node_registration.hpp"
#include "cluster/pod_status_writer.hpp"
#include "conf/loader.hpp"
#include "conf/model.hpp"
#include "lb/endpoint.hpp"

namespace svcproxy::server {

class ClusterNode {
 public:
  // Who decides a pod's readiness.
  enum class Verdict { Probe, Ready, NotReady };

  // `settings.endpoints` must not be empty (parse errors are reported by the caller).
  ClusterNode(boost::asio::io_context& control, std::vector<cluster::EtcdEndpoint> endpoints,
              const conf::EtcdSettings& settings, const conf::ProxySettings& proxy,
              std::function<void()> on_change);
  ~ClusterNode();

  void start();
  // Draining: leave the cluster at once (revoke the lease), stop watching.
  void leave();

  bool synced() const { return sync_.synced(); }
  const cluster::ClusterStats& stats() const { return stats_; }

  // The stored Services, Pods, Deployments and Secrets as documents for the loader.
  std::vector<conf::InlineDocument> documents() const;
  // An edge's nodes are the live registered ones; a worker learns from the registered
  // nodes the zones of those its files do not list (trafficDistribution PreferClose).
  void complete(conf::Snapshot& snapshot, lb::Clock::time_point now = lb::Clock::now());

  // Readiness of a pod of another registered node: its Ready condition, unless that node's
  // lease has been gone for the grace period. A pod of this node, of no node or of a node
  // never registered: probed here.
  Verdict verdict(const lb::EndpointAddress& address, lb::Clock::time_point now) const;
  // When the next node's grace ends (verdicts change then); nullopt when none is counting.
  std::optional<lb::Clock::time_point> next_grace_end() const;
  // A probe of this node's pod decided: written to etcd for the other nodes.
  void report_readiness(const lb::EndpointAddress& address, bool ready);

  // One line for /healthz: "cluster: connected to http://..." or "cluster: disconnected
  // since 2026-12-02T20:10:00Z (why)".
  std::string health_line() const;

  // Where API writes go, and the etcd revision of a stored object (0: not stored).
  cluster::KvStore& store() { return client_; }
  const cluster::RegistryLayout& layout() const { return sync_.layout(); }
  std::int64_t revision_of(cluster::StoredKind kind, std::string_view namespace_name,
                           std::string_view name) const;

 private:
  void refresh_nodes(lb::Clock::time_point now);

  conf::EtcdSettings settings_;
  std::string node_name_;
  cluster::ClusterStats stats_;
  cluster::EtcdClient client_;
  cluster::ClusterSync sync_;
  std::unique_ptr<cluster::NodeRegistration> registration_;  // null for an edge
  cluster::PodStatusWriter status_writer_;
  // Registered nodes: their address, and since when their lease is gone (nullopt: alive).
  struct NodeState {
    std::string address;
    std::optional<lb::Clock::time_point> lease_gone_since;
    std::string zone;  // its topology.kubernetes.io/zone label
  };
  std::map<std::string, NodeState> nodes_;
  std::map<std::string, bool> reported_;  // pod key -> the verdict last written
  struct PodCondition {
    std::int64_t mod_revision = 0;  // parsed from this revision of the object
    std::optional<bool> ready;
  };
  std::map<std::string, PodCondition> pod_ready_;  // pod "namespace/name" -> Ready condition
};

// The address a node registers: advertiseAddress, else the first specific
// nodePortAddresses entry, else 127.0.0.1.
std::string advertise_address(const conf::ProxySettings& proxy);

}  // namespace svcproxy::server

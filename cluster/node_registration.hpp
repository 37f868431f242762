// A node announces itself: a v1 Node object with its address (and its zone as the
// topology.kubernetes.io/zone label, which other nodes route PreferClose traffic by), and a
// Lease object attached
// to an etcd lease of leaseTTL, kept alive every TTL/3. The Lease key vanishing (the node
// died, or drained and revoked it) is how every other instance learns the node is gone:
// an edge stops sending it traffic, and after nodeGracePeriod its pods are not ready.
// Control thread only.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "cluster/cluster_stats.hpp"
#include "cluster/etcd_client.hpp"
#include "cluster/registry_layout.hpp"

namespace svcproxy::cluster {

class NodeRegistration {
 public:
  using LogFn = std::function<void(bool warning, const std::string& line)>;

  NodeRegistration(boost::asio::io_context& control, EtcdClient& client, RegistryLayout layout,
                   std::string node_name, std::string address, std::string zone,
                   std::chrono::seconds ttl, ClusterStats& stats, LogFn log);
  ~NodeRegistration();

  void start();
  // Stops renewing and revokes the lease (best effort, bounded by the client's timeout),
  // so the node drops out at once rather than after the TTL.
  void leave();

 private:
  boost::asio::awaitable<void> run();
  boost::asio::awaitable<bool> register_once();

  boost::asio::io_context& control_;
  EtcdClient& client_;
  RegistryLayout layout_;
  std::string node_name_;
  std::string address_;
  std::string zone_;  // empty: no zone label
  std::chrono::seconds ttl_;
  ClusterStats& stats_;
  LogFn log_;
  std::int64_t lease_ = 0;
  bool registered_logged_ = false;
  std::shared_ptr<bool> stopped_ = std::make_shared<bool>(false);
  boost::asio::steady_timer timer_;
};

// The JSON of the two objects, for tests and the API.
std::string node_object_json(const std::string& node_name, const std::string& address,
                             const std::string& zone = {});
std::string lease_object_json(const std::string& node_name, std::chrono::seconds ttl);

}  // namespace svcproxy::cluster

// The healthCheckNodePort listeners (kube-proxy's ServiceHealthServer): one per address of
// every LoadBalancer Service with externalTrafficPolicy Local, on the control io_context
// like the admin listener, answering from the control thread's backends. A reload syncs
// the set: listeners that stay keep their socket, so a load balancer never sees a refused
// check because of a reload.
#pragma once

#include <boost/asio/io_context.hpp>
#include <map>
#include <memory>
#include <string>

#include "conf/model.hpp"
#include "server/admin/service_health.hpp"
#include "server/control/listen_plan.hpp"

namespace svcproxy::server {

// Where each check listens -> the Service it answers for: every address of
// nodePortAddresses at each healthCheckNodePort of the Services whose LoadBalancer traffic
// stays on this node (none on an edge, which forwards to nodes instead).
std::map<ListenAddress, ServiceHealthTarget> plan_service_health(const conf::Snapshot& snapshot);

class ServiceHealthServer {
 public:
  // Reads `snapshot` (its admin limits) and `backends` by reference on every request: the
  // owner replaces what they hold, on the control thread.
  ServiceHealthServer(boost::asio::io_context& control, const conf::Snapshot& snapshot,
                      const discovery::BackendMapPtr& backends);
  ~ServiceHealthServer();
  ServiceHealthServer(const ServiceHealthServer&) = delete;
  ServiceHealthServer& operator=(const ServiceHealthServer&) = delete;

  // Listens on exactly the addresses of `wanted`. One that cannot be bound is logged and
  // tried again at the next sync, as kube-proxy does.
  void sync(const std::map<ListenAddress, ServiceHealthTarget>& wanted);
  void set_readiness(Readiness readiness);
  // Closes every listener; connections finish their current request.
  void stop();

 private:
  struct Shared;
  class Listener;

  boost::asio::io_context& control_;
  std::shared_ptr<Shared> shared_;
  std::map<ListenAddress, std::shared_ptr<Listener>> listeners_;
};

}  // namespace svcproxy::server

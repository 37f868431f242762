// The endpoints of one service port and how to choose among them. Immutable once
// published: a change of endpoints publishes a new Backend (sharing the Endpoint objects
// that stayed, so their counters and health carry over); workers that hold the old one
// finish with it.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "conf/model.hpp"
#include "lb/endpoint.hpp"
#include "lb/policy.hpp"

namespace svcproxy::lb {

struct BackendSettings {
  std::string name;  // "namespace/service:port", for logs and metrics
  std::string service_namespace;
  std::string service_name;
  std::string port_name;
  int service_port = 0;
  conf::LoadBalancing load_balancing = conf::LoadBalancing::RoundRobin;
  conf::SessionAffinity session_affinity = conf::SessionAffinity::None;
  conf::Duration affinity_timeout = std::chrono::seconds(10800);
  bool publish_not_ready_addresses = false;
};

struct PickRequest {
  std::string_view client_ip;  // for ClientIP affinity
  Clock::time_point now = Clock::now();
  std::span<const Endpoint* const> exclude;  // endpoints this request already tried
};

class Backend {
 public:
  Backend(BackendSettings settings, std::vector<EndpointPtr> endpoints);

  const BackendSettings& settings() const { return settings_; }
  const std::string& name() const { return settings_.name; }
  const std::vector<EndpointPtr>& endpoints() const { return endpoints_; }

  // An endpoint for a new connection or request, or nullptr when none may take it.
  // Ready, non-ejected, non-terminating endpoints first; when there are none, terminating
  // ones that are still ready serve (Kubernetes' terminating-endpoint rule).
  // Thread-safe: called from every worker.
  EndpointPtr pick(const PickRequest& request) const;

 private:
  BackendSettings settings_;
  std::vector<EndpointPtr> endpoints_;
  std::unique_ptr<Policy> policy_;
};

using BackendPtr = std::shared_ptr<const Backend>;

}  // namespace svcproxy::lb

// The endpoints of one service port and how to choose among them. Immutable once
// published: a change of endpoints publishes a new Backend (sharing the Endpoint objects
// that stayed, so their counters and health carry over); workers that hold the old one
// finish with it.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "conf/model.hpp"
#include "lb/endpoint.hpp"
#include "lb/outlier_detection.hpp"
#include "lb/policy.hpp"
#include "lb/session_affinity.hpp"

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
  conf::OutlierDetection outlier_detection;
  // The Service's ClientIP table, shared by all its port Backends and carried over when a
  // Backend is replaced; null for sessionAffinity None. With ClientIP and no table, the
  // Backend makes its own (per port, not shared).
  std::shared_ptr<AffinityTable> affinity;
  // trafficDistribution PreferClose on a Cluster route: this node's zone, which new traffic
  // prefers (see Backend::pick); empty: every zone alike.
  std::string topology_zone;
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
  // With a topology zone, those of that zone come before the others while kube-proxy
  // would route by zone (prefers_zone); the others still serve when none of the zone may.
  // With ClientIP affinity the client's remembered pod comes first, while it may serve
  // (and is in the zone, when the zone is preferred).
  // Thread-safe: called from every worker.
  EndpointPtr pick(const PickRequest& request) const;

  // How a connection or request to `endpoint` (picked from this Backend) went: once per L4
  // connection (ConnectFailure, Reset or Success) or per L7 attempt (ConnectFailure, Reset,
  // Http5xx or Success). Returns the ejection it caused, for a log line and a metric.
  // Thread-safe: called from every worker.
  std::optional<Ejection> report(Endpoint& endpoint, Outcome outcome,
                                 Clock::time_point now = Clock::now()) const;

 private:
  bool serving(const Endpoint& endpoint, const PickRequest& request) const;
  bool prefers_zone(const PickRequest& request) const;
  bool in_zone(const Endpoint& endpoint) const;
  EndpointPtr pick_balanced(const PickRequest& request) const;
  EndpointPtr eligible_endpoint_of_pod(std::string_view pod_key, const PickRequest& request) const;

  // Transparent, so the affinity lookup by string_view does not build a std::string.
  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const {
      return std::hash<std::string_view>{}(text);
    }
  };

  BackendSettings settings_;
  std::vector<EndpointPtr> endpoints_;
  std::unique_ptr<Policy> policy_;
  // With a topology zone: the endpoints in it, with a rotation of their own, and those
  // with no zone at all (any of them ready turns the preference off, as in kube-proxy).
  std::vector<EndpointPtr> zone_endpoints_;
  std::unique_ptr<Policy> zone_policy_;
  std::vector<const Endpoint*> unzoned_;
  std::shared_ptr<AffinityTable> affinity_;
  // Pod key -> index in endpoints_; built only with affinity.
  std::unordered_map<std::string, std::size_t, StringHash, std::equal_to<>> index_by_pod_;
  mutable OutlierDetector outlier_detector_;  // mutable: its mutex; state is on Endpoints
};

using BackendPtr = std::shared_ptr<const Backend>;

}  // namespace svcproxy::lb

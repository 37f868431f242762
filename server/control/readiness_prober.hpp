// Active readiness checks (a pod's readinessProbe: httpGet or tcpSocket), run as
// coroutines on the control io_context, never on a worker. Each distinct (address, probe
// port, probe) is probed once and the result fanned out to every Endpoint object that
// shares it (several service ports, or a Backend rebuilt after a reload). Readiness goes
// through lb::HealthState; each transition is logged once, with the reason.
//
// Thread affinity: construct, watch() and destroy on the control context's thread. The
// probe loops own their state (shared with this object), so destroying the prober only
// asks them to stop; they finish on the context without touching it.
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "lb/endpoint.hpp"

namespace svcproxy::server {

struct ProbeTarget;  // one probed (address, port, probe) and its loop's state

class ReadinessProber {
 public:
  using LogFn = std::function<void(std::string_view)>;
  // A probe's first verdict and every change after it (cluster mode writes them to etcd).
  using TransitionFn = std::function<void(const lb::EndpointAddress&, bool ready)>;

  ReadinessProber(boost::asio::io_context& control, LogFn log);
  ~ReadinessProber();
  ReadinessProber(const ReadinessProber&) = delete;
  ReadinessProber& operator=(const ReadinessProber&) = delete;

  // Replaces the watched set. Probes that are still wanted keep their loop and state (an
  // Endpoint joining one takes its current readiness at once); new ones start, with their
  // endpoints not ready until a first success; probes no longer wanted stop. Endpoints
  // without a readinessProbe are ignored: they are ready from the start.
  void watch(const std::vector<lb::EndpointPtr>& endpoints);

  void on_transition(TransitionFn transition) { *transition_ = std::move(transition); }

  // Distinct probes running, for tests and metrics.
  std::size_t probe_count() const { return targets_.size(); }

 private:
  void subscribe(const std::string& identity, std::vector<lb::EndpointPtr> endpoints);
  void start(const std::shared_ptr<ProbeTarget>& target);

  boost::asio::io_context& control_;
  std::shared_ptr<const LogFn> log_;
  std::shared_ptr<TransitionFn> transition_ = std::make_shared<TransitionFn>();
  std::unordered_map<std::string, std::shared_ptr<ProbeTarget>> targets_;  // by identity
};

}  // namespace svcproxy::server

// The running proxy: the control thread (signals, reload, config watching, DNS discovery,
// readiness probes, the admin listener) and the workers that carry traffic.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "conf/document_cache.hpp"
#include "conf/model.hpp"
#include "discovery/backend_builder.hpp"
#include "discovery/dns_discovery.hpp"
#include "server/admin/admin_server.hpp"
#include "server/admin/service_health_server.hpp"
#include "server/control/cluster_node.hpp"
#include "server/control/config_watcher.hpp"
#include "server/control/control_stats.hpp"
#include "server/control/listen_plan.hpp"
#include "server/control/readiness_prober.hpp"
#include "server/dns/cluster_dns_server.hpp"
#include "server/log/log.hpp"
#include "server/metrics/metrics.hpp"
#include "server/metrics/metrics_collector.hpp"
#include "server/worker/worker.hpp"

namespace svcproxy::server {

class Proxy {
 public:
  // `documents` holds what loading `snapshot` parsed, so the first reload re-parses only
  // what changed.
  // `etcd_endpoints` (--etcd) puts the node in cluster mode, as ProxyConfig `etcd.endpoints`
  // does; they are checked by the caller.
  Proxy(std::vector<std::string> config_paths, conf::Snapshot snapshot,
        conf::DocumentCache documents = {}, std::vector<cluster::EtcdEndpoint> etcd_endpoints = {});
  ~Proxy();

  // Serves until SIGTERM/SIGINT and the drain that follows. Returns the exit code:
  // 0 after a drain, 1 when the listeners could not be opened at start.
  int run();

 private:
  // Opens the listeners the snapshot adds, closes the ones it removes, re-routes the rest.
  // All-or-nothing: when a new listener cannot be bound, nothing changes and false is
  // returned with the reasons logged. Takes the snapshot to keep it without a copy.
  bool apply(conf::Snapshot snapshot);
  // Gives each TLS port's listeners their terminator: the previous one when the port's
  // Secrets and the TLS policy did not change (its sessions live on), a new one otherwise.
  // False, with the reason logged, when one cannot be made.
  bool attach_tls(std::vector<ListenerSpec>& plan, const conf::Snapshot& snapshot);
  // The TLS to pods of every backend-TLS port's routes, contexts kept when unchanged; false
  // (and a log line) when one cannot be made.
  bool make_upstream_tls(const conf::Snapshot& snapshot, UpstreamTlsMapPtr& made);
  // Rebuilds the backends from the snapshot's pods plus the DNS pods and publishes a new
  // RoutingTable to every worker. After apply() and on every DNS change.
  void publish_routes(const conf::Snapshot& snapshot);
  void schedule_termination_sweep(conf::Duration grace);
  void start_discovery();
  void reload();
  void begin_drain();
  void finish();
  void wait_for_signals();
  void on_worker_drained();
  void start_admin();
  // The cluster DNS server, when ProxyConfig has `dns`; a bind failure is logged.
  void start_cluster_dns();
  // What the admin listener (and apiAddress) answer from; writes only in cluster mode.
  AdminSources admin_sources();
  boost::asio::awaitable<ApiAnswer> write_api(ApiWriteRequest request);
  // ProxyConfig apiTokenFile, read at start and on every reload.
  void read_api_token();
  void set_readiness(Readiness readiness);
  void start_cluster();
  // Cluster verdicts for pods other nodes decide; the rest go to the prober.
  std::vector<lb::EndpointPtr> assign_readiness(const discovery::BackendMap& backends);
  void schedule_grace_check();

  std::vector<std::string> config_paths_;
  std::vector<cluster::EtcdEndpoint> etcd_endpoints_;
  conf::DocumentCache documents_;
  conf::Snapshot snapshot_;
  boost::asio::io_context control_{1};
  boost::asio::signal_set signals_{control_};
  boost::asio::steady_timer drain_deadline_{control_};
  boost::asio::steady_timer termination_sweep_{control_};
  boost::asio::steady_timer grace_check_{control_};
  boost::asio::steady_timer cluster_ready_wait_{control_};
  std::atomic<int> open_connections_{0};
  ReadinessProber prober_{control_, [](std::string_view line) { log(LogLevel::Info, line); }};
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<ListenerSpec> listeners_;
  struct TlsEntry {
    std::string identity;  // what it was made from: Secrets' names and contents, the policy
    std::shared_ptr<TlsTerminator> terminator;
  };
  std::map<std::string, TlsEntry> tls_terminators_;  // by ListenerSpec::tls_port
  // TLS to pods: what each service port's context was made from, and the routes in force.
  std::map<std::string, std::pair<std::string, std::shared_ptr<const UpstreamTls>>>
      upstream_tls_made_;
  UpstreamTlsMapPtr upstream_tls_;
  // The backends in force (backend_builder_.current()) and what the next rebuild can reuse.
  discovery::BackendBuilder backend_builder_;
  // Observability, all on the control thread; the admin reads the members above by
  // reference. Declared after control_ so they are destroyed before it.
  ServiceMetricsMapPtr service_metrics_ = std::make_shared<const ServiceMetricsMap>();
  ControlStats control_stats_;
  MetricsCollector metrics_{service_metrics_, backend_builder_.current(), control_stats_};
  AdminServer admin_{control_, admin_sources()};
  std::unique_ptr<AdminServer> api_;      // apiAddress, when set
  std::unique_ptr<AdminServer> healthz_;  // healthzAddress, when set
  ServiceHealthServer service_health_{control_, snapshot_, backend_builder_.current()};
  std::unique_ptr<ClusterDnsServer> cluster_dns_;  // ProxyConfig dns, when set
  std::optional<std::string> api_token_;
  bool draining_ = false;
  std::size_t workers_draining_ = 0;
  // Both run on control_ and are declared after it, so they go before it does.
  std::unique_ptr<discovery::DnsDiscovery> dns_;
  std::unique_ptr<ConfigWatcher> config_watcher_;
  std::unique_ptr<ClusterNode> cluster_;
};

}  // namespace svcproxy::server

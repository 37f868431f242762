// GCC 12 reports a false mismatched-new-delete on Asio's awaitable frames in this file.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#include "server/control/proxy.hpp"

#include <unistd.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <csignal>
#include <fstream>
#include <sstream>
#include <thread>
#include <utility>
#include <variant>

#include "cluster/object_store.hpp"
#include "conf/loader.hpp"
#include "discovery/service_routes.hpp"
#include "server/control/listen_socket.hpp"
#include "server/log/access_log.hpp"
#include "server/log/log.hpp"
#include "server/metrics/metrics_registry.hpp"
#include "server/tls/tls_terminator.hpp"
#include "server/upstream/upstream_tls.hpp"

namespace svcproxy::server {
namespace asio = boost::asio;

namespace {

constexpr int kListenBacklog = 4096;

int worker_count(const conf::ProxySettings& settings) {
  if (settings.workers > 0) return settings.workers;
  return std::max(1u, std::thread::hardware_concurrency());
}

// Plans are sorted by address (plan_listeners), so a lookup is a binary search: a reload
// of 10,000 listeners must not compare every pair.
const ListenerSpec* find_listener(const std::vector<ListenerSpec>& plan,
                                  const ListenAddress& address) {
  const auto found = std::lower_bound(
      plan.begin(), plan.end(), address,
      [](const ListenerSpec& spec, const ListenAddress& key) { return spec.address < key; });
  return found != plan.end() && found->address == address ? &*found : nullptr;
}

// Whether two maps have the same keys: then sync_service_metrics would return the metrics
// map as it is, and 10,000 keys need not be copied.
bool same_keys(const ServiceMetricsMap& metrics, const discovery::BackendMap& backends) {
  return std::equal(metrics.begin(), metrics.end(), backends.begin(), backends.end(),
                    [](const auto& a, const auto& b) { return a.first == b.first; });
}

void close_all(const std::vector<std::vector<int>>& descriptors) {
  for (const auto& per_listener : descriptors)
    for (const int fd : per_listener)
      ::close(fd);
}

}  // namespace

Proxy::Proxy(std::vector<std::string> config_paths, conf::Snapshot snapshot,
             conf::DocumentCache documents, std::vector<cluster::EtcdEndpoint> etcd_endpoints)
    : config_paths_(std::move(config_paths)),
      etcd_endpoints_(std::move(etcd_endpoints)),
      documents_(std::move(documents)),
      snapshot_(std::move(snapshot)) {
  for (int i = 0, n = worker_count(snapshot_.proxy); i < n; ++i)
    workers_.push_back(std::make_unique<Worker>(i, open_connections_));
}

Proxy::~Proxy() {
  for (auto& worker : workers_)
    worker->stop();
  for (auto& worker : workers_)
    worker->join();
}

int Proxy::run() {
  std::string error;
  if (!configure_access_log(snapshot_.proxy.access_log, error)) {
    log(LogLevel::Error, error);
    return 1;
  }
  start_discovery();
  if (!apply(std::move(snapshot_))) return 1;
  record_config_load_success(control_stats_);
  start_admin();
  start_cluster_dns();
  for (auto& worker : workers_)
    worker->start();
  start_cluster();
  // A node is ready once it holds the cluster state, or once etcd had its request timeout
  // to answer: etcd down must not keep a node's files from serving.
  if (!cluster_) set_readiness(Readiness::Ready);
  wait_for_signals();
  log(LogLevel::Info, "svcproxy ready: ", listeners_.size(), " listeners, ", workers_.size(),
      " workers");
  control_.run();
  for (auto& worker : workers_)
    worker->stop();
  for (auto& worker : workers_)
    worker->join();
  log(LogLevel::Info, "svcproxy stopped");
  return 0;
}

bool Proxy::apply(conf::Snapshot snapshot) {
  std::vector<ListenerSpec> plan = plan_listeners(snapshot);
  const auto conflicts = find_listener_conflicts(plan);
  for (const auto& conflict : conflicts)
    log(LogLevel::Error, "configuration rejected: ", conflict);
  if (!conflicts.empty()) return false;
  if (!attach_tls(plan, snapshot)) return false;
  UpstreamTlsMapPtr upstream_tls;
  if (!make_upstream_tls(snapshot, upstream_tls)) return false;

  // Bind every new address on every worker first, so a failure changes nothing.
  std::vector<const ListenerSpec*> added;
  std::vector<std::vector<int>> descriptors;
  for (const auto& spec : plan) {
    if (find_listener(listeners_, spec.address)) continue;
    added.push_back(&spec);
    descriptors.emplace_back();
    for (std::size_t w = 0; w < workers_.size(); ++w) {
      auto opened = open_listen_socket(spec.address, kListenBacklog);
      if (auto* failure = std::get_if<ListenError>(&opened)) {
        log(LogLevel::Error, failure->message, " (", spec.backend_key, ")");
        close_all(descriptors);
        return false;
      }
      descriptors.back().push_back(std::get<int>(opened));
    }
  }

  dns_->update(snapshot);
  upstream_tls_ = std::move(upstream_tls);
  publish_routes(snapshot);
  // One line per listener helps with a handful; with thousands it drowns the log.
  constexpr std::size_t kListenersLoggedOneByOne = 64;
  const LogLevel each = added.size() > kListenersLoggedOneByOne ? LogLevel::Debug : LogLevel::Info;
  for (std::size_t i = 0; i < added.size(); ++i) {
    for (std::size_t w = 0; w < workers_.size(); ++w)
      workers_[w]->open_listener(*added[i], descriptors[i][w]);
    log(each, "listening on ", added[i]->address.to_string(), " for ", added[i]->backend_key, " (",
        to_string(added[i]->role), ", ",
        added[i]->address.udp ? "udp" : conf::to_string(added[i]->protocol), ")");
  }
  if (each == LogLevel::Debug)
    log(LogLevel::Info, "listening on ", added.size(),
        " new addresses (--log-level debug lists them)");
  for (const auto& old : listeners_) {
    const ListenerSpec* now = find_listener(plan, old.address);
    if (!now) {
      for (auto& worker : workers_)
        worker->close_listener(old.address);
      log(LogLevel::Info, "stopped listening on ", old.address.to_string(), " for ",
          old.backend_key);
    } else if (!(*now == old)) {
      for (auto& worker : workers_)
        worker->update_listener(*now);
    }
  }
  listeners_ = std::move(plan);
  // The previous snapshot (60,000 shared objects to release) goes after this reload is
  // reported.
  auto previous = std::make_shared<conf::Snapshot>(std::exchange(snapshot_, std::move(snapshot)));
  asio::post(control_, [previous = std::move(previous)] {});
  service_health_.sync(plan_service_health(snapshot_));
  return true;
}

bool Proxy::attach_tls(std::vector<ListenerSpec>& plan, const conf::Snapshot& snapshot) {
  std::map<std::string, const conf::Service*> services;
  std::map<std::string, const conf::TlsSecret*> secrets;
  std::map<std::string, TlsEntry> attached;
  for (auto& spec : plan) {
    if (spec.tls_port.empty()) continue;
    if (const auto done = attached.find(spec.tls_port); done != attached.end()) {
      spec.tls = done->second.terminator;
      continue;
    }
    if (services.empty()) {
      for (const auto& service : snapshot.services)
        services[service.key()] = &service;
      for (const auto& secret : snapshot.secrets)
        secrets[secret.key()] = &secret;
    }
    const conf::Service& service = *services.at(spec.tls_port.substr(0, spec.tls_port.rfind(':')));
    std::vector<const conf::TlsSecret*> served;
    const conf::TlsSettings& policy = snapshot.proxy.tls;
    std::string identity = policy.min_version + "|" + policy.ciphers + "|" +
                           std::to_string(policy.ticket_key_rotation.count()) + "|" +
                           (service.tls_strict_sni ? "strict" : "");
    for (const auto& name : service.tls_secrets) {
      const conf::TlsSecret* secret = secrets.at(service.namespace_name + "/" + name);
      served.push_back(secret);
      identity.append(1, '|').append(secret->key()).append(1, '|');
      identity.append(secret->certificate_pem).append(secret->private_key_pem);
      identity.append(secret->ocsp_der);
    }
    TlsEntry entry{std::move(identity), nullptr};
    if (const auto kept = tls_terminators_.find(spec.tls_port);
        kept != tls_terminators_.end() && kept->second.identity == entry.identity) {
      entry.terminator = kept->second.terminator;
    } else {
      std::string error;
      entry.terminator = TlsTerminator::make(served, service.tls_strict_sni, policy, error);
      if (!entry.terminator) {
        log(LogLevel::Error, "configuration rejected: TLS for ", spec.tls_port, ": ", error);
        return false;
      }
    }
    spec.tls = entry.terminator;
    attached.emplace(spec.tls_port, std::move(entry));
  }
  tls_terminators_ = std::move(attached);
  return true;
}

bool Proxy::make_upstream_tls(const conf::Snapshot& snapshot, UpstreamTlsMapPtr& made) {
  std::map<std::string, const conf::TlsSecret*> secrets;
  for (const auto& secret : snapshot.secrets)
    secrets[secret.key()] = &secret;
  auto routes = std::make_shared<UpstreamTlsMap>();
  decltype(upstream_tls_made_) kept;
  const conf::TlsSettings& policy = snapshot.proxy.tls;
  for (const auto& service : snapshot.services) {
    for (const auto& port : service.ports) {
      if (!port.backend_tls) continue;
      const conf::BackendTls& backend = service.backend_tls;
      const std::string ca_pem =
          backend.ca_secret.empty()
              ? std::string()
              : secrets.at(service.namespace_name + "/" + backend.ca_secret)->ca_pem;
      std::string identity =
          policy.min_version + "|" + policy.ciphers + "|" + backend.hostname + "|" + ca_pem;
      const std::string key = discovery::service_port_key(service, port);
      std::shared_ptr<const UpstreamTls> tls;
      if (const auto before = upstream_tls_made_.find(key);
          before != upstream_tls_made_.end() && before->second.first == identity) {
        tls = before->second.second;
      } else {
        std::string error;
        tls = UpstreamTls::make(ca_pem, backend.hostname, policy, error);
        if (!tls) {
          log(LogLevel::Error, "configuration rejected: TLS to the pods of ", key, ": ", error);
          return false;
        }
      }
      // Every route that reaches pods; an edge's route to the nodes stays plain (the nodes'
      // own svcproxy speaks TLS to the pods).
      for (const discovery::ExternalRoute route : discovery::routes_of(service, snapshot.proxy))
        if (route != discovery::ExternalRoute::EdgeNodes)
          routes->emplace(discovery::route_key(service, port, route), tls);
      kept.emplace(key, std::make_pair(std::move(identity), std::move(tls)));
    }
  }
  upstream_tls_made_ = std::move(kept);
  made = std::move(routes);
  return true;
}

void Proxy::publish_routes(const conf::Snapshot& snapshot) {
  discovery::BackendMapPtr previous = backend_builder_.current();
  const discovery::BackendMap& backends = *backend_builder_.build(snapshot, dns_->pods());
  ServiceMetricsMapPtr previous_metrics = service_metrics_;
  if (!same_keys(*service_metrics_, backends))
    service_metrics_ = std::make_shared<const ServiceMetricsMap>(
        sync_service_metrics(*previous_metrics, backends, workers_.size()));
  // The workers share the maps with this thread; nothing is copied.
  auto routes = std::make_shared<const RoutingTable>(
      RoutingTable{backend_builder_.current(), snapshot.proxy, service_metrics_, upstream_tls_});
  for (auto& worker : workers_)
    worker->publish(routes);
  // 10,000 keys each: freed after this reload is reported, unless a worker frees them first.
  asio::post(control_,
             [previous = std::move(previous), previous_metrics = std::move(previous_metrics)] {});
  // The prober looks only at endpoints with a readinessProbe it decides; the others need no
  // copy.
  prober_.watch(assign_readiness(backends));
  schedule_termination_sweep(snapshot.proxy.timeouts.drain);
  schedule_grace_check();
}

// Removed pods serve out their grace inside the sets; rebuild when the first one ends.
void Proxy::schedule_termination_sweep(conf::Duration grace) {
  const auto end = discovery::next_termination_end(*backend_builder_.current(), grace);
  termination_sweep_.cancel();
  if (!end) return;
  termination_sweep_.expires_at(*end + std::chrono::milliseconds(1));
  termination_sweep_.async_wait([this](const boost::system::error_code& error) {
    if (!error && !draining_) publish_routes(snapshot_);
  });
}

// DNS answers and config file changes arrive on the control context, like signals.
void Proxy::start_discovery() {
  dns_ = std::make_unique<discovery::DnsDiscovery>(
      control_, discovery::make_cares_resolver(control_),
      [this](const std::string&, const std::vector<conf::Pod>&) { publish_routes(snapshot_); },
      [](discovery::DnsLogLevel level, const std::string& message) {
        log(level == discovery::DnsLogLevel::Warn ? LogLevel::Warn : LogLevel::Info, message);
      });
  control_stats_.dns_results = &dns_->counters();
  config_watcher_ = std::make_unique<ConfigWatcher>(control_, config_paths_, [this] {
    if (!draining_) reload();
  });
  for (const auto& problem : config_watcher_->start())
    log(LogLevel::Warn, "not watching for config changes: ", problem);
}

void Proxy::start_cluster() {
  if (etcd_endpoints_.empty()) return;
  cluster_ = std::make_unique<ClusterNode>(control_, etcd_endpoints_, snapshot_.proxy.etcd,
                                           snapshot_.proxy, [this] {
                                             if (draining_) return;
                                             reload();
                                             if (cluster_->synced())
                                               set_readiness(Readiness::Ready);
                                           });
  control_stats_.cluster = &cluster_->stats();
  prober_.on_transition([this](const lb::EndpointAddress& address, bool ready) {
    if (cluster_) cluster_->report_readiness(address, ready);
  });
  cluster_->start();
  cluster_ready_wait_.expires_after(snapshot_.proxy.etcd.request_timeout);
  cluster_ready_wait_.async_wait([this](const boost::system::error_code& error) {
    if (error || draining_ || cluster_->synced()) return;
    log(LogLevel::Warn, "cluster: no state from etcd yet; serving the local files meanwhile");
    set_readiness(Readiness::Ready);
  });
}

std::vector<lb::EndpointPtr> Proxy::assign_readiness(const discovery::BackendMap& backends) {
  std::vector<lb::EndpointPtr> probed;
  const auto now = lb::Clock::now();
  for (const auto& [key, backend] : backends)
    for (const auto& endpoint : backend->endpoints()) {
      const auto verdict =
          cluster_ ? cluster_->verdict(endpoint->address(), now) : ClusterNode::Verdict::Probe;
      if (verdict == ClusterNode::Verdict::Probe) {
        if (endpoint->address().readiness_probe)
          probed.push_back(endpoint);
        else if (cluster_)
          cluster_->report_readiness(endpoint->address(), true);
      } else {
        endpoint->set_ready(verdict == ClusterNode::Verdict::Ready);
      }
    }
  return probed;
}

// A node whose lease went away: its pods turn not ready when the grace ends.
void Proxy::schedule_grace_check() {
  grace_check_.cancel();
  if (!cluster_) return;
  const auto end = cluster_->next_grace_end();
  if (!end || *end < lb::Clock::now()) return;
  grace_check_.expires_at(*end + std::chrono::milliseconds(1));
  grace_check_.async_wait([this](const boost::system::error_code& error) {
    if (!error && !draining_) publish_routes(snapshot_);
  });
}

void Proxy::reload() {
  log(LogLevel::Info, "reloading configuration");
  const auto started = std::chrono::steady_clock::now();
  conf::LoadResult loaded = conf::load_files(
      config_paths_, cluster_ ? cluster_->documents() : std::vector<conf::InlineDocument>{},
      &documents_);
  if (loaded.ok() && cluster_) cluster_->complete(*loaded.snapshot);
  const auto loaded_at = std::chrono::steady_clock::now();
  for (const auto& warning : loaded.warnings)
    log(LogLevel::Warn, warning.to_string());
  if (!loaded.ok()) {
    for (const auto& error : loaded.errors)
      log(LogLevel::Error, error.describe());
    log(LogLevel::Error, "reload rejected: ", loaded.errors.size(),
        " errors; the previous configuration keeps serving");
    record_config_reload(control_stats_, false);
    return;
  }
  if (cluster_)
    if (auto problem = cluster::unsupported_service_cidr(loaded.snapshot->proxy)) {
      log(LogLevel::Error, "reload rejected: ", *problem,
          "; the previous configuration keeps serving");
      record_config_reload(control_stats_, false);
      return;
    }
  if (worker_count(loaded.snapshot->proxy) != static_cast<int>(workers_.size()))
    log(LogLevel::Warn, "a change of workers takes effect at the next start");
  if (loaded.snapshot->proxy.admin_address != snapshot_.proxy.admin_address ||
      loaded.snapshot->proxy.healthz_address != snapshot_.proxy.healthz_address ||
      loaded.snapshot->proxy.api_address != snapshot_.proxy.api_address)
    log(LogLevel::Warn,
        "a change of adminAddress, apiAddress or healthzAddress takes effect at the next start");
  if (loaded.snapshot->proxy.dns.enabled != snapshot_.proxy.dns.enabled ||
      loaded.snapshot->proxy.dns.address != snapshot_.proxy.dns.address)
    log(LogLevel::Warn,
        "turning dns on or off or moving dns.address takes effect at the next start; its other "
        "settings apply now");
  const bool applied = apply(std::move(*loaded.snapshot));
  if (applied) read_api_token();
  record_config_reload(control_stats_, applied);
  const auto millis = [](auto duration) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(duration).count();
  };
  if (applied)
    log(LogLevel::Info, "reload applied (read in ", millis(loaded_at - started), "ms, applied in ",
        millis(std::chrono::steady_clock::now() - loaded_at), "ms)");
  else
    log(LogLevel::Error, "reload rejected; the previous configuration keeps serving");
}

AdminSources Proxy::admin_sources() {
  AdminSources sources{snapshot_, backend_builder_.current(), metrics_,
                       [this] { return cluster_ ? cluster_->health_line() : std::string(); }};
  sources.api_token = [this] { return api_token_; };
  sources.last_update = [this] {
    return std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::duration<double>(control_stats_.last_reload_success_unix_seconds)));
  };
  if (etcd_endpoints_.empty()) return sources;  // file mode: the files are the truth
  sources.resource_versions = [this](ApiResource resource, std::string_view namespace_name,
                                     std::string_view name) {
    const auto kind = cluster::stored_kind(resource_kind(resource));
    if (!cluster_ || !kind || resource == ApiResource::Endpoints ||
        resource == ApiResource::EndpointSlices)
      return std::string();
    const std::int64_t revision = cluster_->revision_of(*kind, namespace_name, name);
    return revision == 0 ? std::string() : std::to_string(revision);
  };
  sources.write = [this](ApiWriteRequest request) { return write_api(std::move(request)); };
  return sources;
}

asio::awaitable<ApiAnswer> Proxy::write_api(ApiWriteRequest request) {
  if (!cluster_)
    co_return ApiAnswer{503, api_status(503, "ServiceUnavailable", "the node is starting")};
  // The node's serviceCIDR and nodePortRange as they are now (a reload may change them).
  const ApiWriteContext context{
      cluster_->store(), cluster::store_settings(snapshot_.proxy, cluster_->layout().prefix()),
      config_paths_};
  co_return co_await answer_write(std::move(request), context);
}

void Proxy::set_readiness(Readiness readiness) {
  admin_.set_readiness(readiness);
  if (api_) api_->set_readiness(readiness);
  if (healthz_) healthz_->set_readiness(readiness);
  service_health_.set_readiness(readiness);
}

void Proxy::read_api_token() {
  const std::string& path = snapshot_.proxy.api_token_file;
  if (path.empty()) {
    api_token_.reset();
    return;
  }
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  std::string token = text.str();
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back())))
    token.pop_back();
  if (!file || token.empty())
    log(LogLevel::Error, "apiTokenFile ", path,
        " cannot be read or is empty: API writes are refused until it can be read");
  api_token_ = std::move(token);
}

// An admin listener that cannot bind is logged, not fatal: traffic matters more than
// observability, as with kube-proxy's metrics server.
void Proxy::start_admin() {
  read_api_token();
  std::string error;
  if (admin_.start(snapshot_.proxy.admin_address, error))
    log(LogLevel::Info, "admin listening on ", snapshot_.proxy.admin_address);
  else
    log(LogLevel::Error, error, "; continuing without /metrics and /readyz");
  if (const std::string& healthz = snapshot_.proxy.healthz_address; !healthz.empty()) {
    healthz_ = std::make_unique<AdminServer>(control_, admin_sources(), AdminRole::KubeProxyHealth);
    if (healthz_->start(healthz, error))
      log(LogLevel::Info, "kube-proxy health (/healthz, /livez) listening on ", healthz);
    else
      log(LogLevel::Warn, error, "; continuing without kube-proxy's health endpoint");
  }
  const std::string& api_address = snapshot_.proxy.api_address;
  if (api_address.empty()) return;
  api_ = std::make_unique<AdminServer>(control_, admin_sources());
  if (api_->start(api_address, error))
    log(LogLevel::Info, "Kubernetes API listening on ", api_address,
        api_token_ ? "" : " (writes need apiTokenFile unless it is loopback)");
  else
    log(LogLevel::Error, error, "; continuing without the apiAddress listener");
}

// Like the admin listener: names matter less than traffic, so a DNS address that cannot
// be bound (port 53 without CAP_NET_BIND_SERVICE, or taken) is an error line, not an exit.
void Proxy::start_cluster_dns() {
  const conf::ClusterDns& dns = snapshot_.proxy.dns;
  if (!dns.enabled) return;
  cluster_dns_ =
      std::make_unique<ClusterDnsServer>(control_, snapshot_, backend_builder_.current());
  std::string error;
  if (cluster_dns_->start(error))
    log(LogLevel::Info, "cluster DNS for ", dns.domain, " listening on ", dns.address,
        " (UDP and TCP)");
  else
    log(LogLevel::Error, error, "; continuing without cluster DNS");
}

void Proxy::wait_for_signals() {
  signals_.add(SIGTERM);
  signals_.add(SIGINT);
  signals_.add(SIGHUP);
  signals_.add(SIGUSR1);
  signals_.async_wait([this](const boost::system::error_code& error, int signal) {
    if (error) return;
    if (signal == SIGHUP) {
      // Like the file watcher: a reload could open listeners on draining workers.
      if (draining_)
        log(LogLevel::Warn, "SIGHUP ignored: draining");
      else
        reload();
    }
    if (signal == SIGUSR1) reopen_access_log();
    if (signal == SIGTERM || signal == SIGINT) {
      if (draining_) {
        log(LogLevel::Warn, "second stop signal: exiting without waiting for the drain");
        finish();
        return;
      }
      begin_drain();
    }
    wait_for_signals();
  });
}

void Proxy::begin_drain() {
  draining_ = true;
  if (cluster_) cluster_->leave();
  set_readiness(Readiness::Draining);
  const auto timeout = snapshot_.proxy.timeouts.drain;
  log(LogLevel::Info, "draining: no new connections; waiting up to ",
      std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count(), "ms for open ones");
  workers_draining_ = workers_.size();
  for (auto& worker : workers_)
    worker->drain([this] { asio::post(control_, [this] { on_worker_drained(); }); });
  drain_deadline_.expires_after(timeout);
  drain_deadline_.async_wait([this](const boost::system::error_code& error) {
    if (error) return;
    log(LogLevel::Warn, "drain timeout reached with ", open_connections_.load(),
        " connections open; closing them");
    finish();
  });
}

void Proxy::on_worker_drained() {
  if (--workers_draining_ == 0) {
    log(LogLevel::Info, "drained: every connection has finished");
    finish();
  }
}

void Proxy::finish() {
  admin_.stop();
  if (api_) api_->stop();
  if (healthz_) healthz_->stop();
  service_health_.stop();
  if (cluster_dns_) cluster_dns_->stop();
  signals_.cancel();
  drain_deadline_.cancel();
  termination_sweep_.cancel();
  grace_check_.cancel();
  cluster_ready_wait_.cancel();
  control_.stop();
}

}  // namespace svcproxy::server

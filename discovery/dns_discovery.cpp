#include "discovery/dns_discovery.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <optional>

#include "discovery/dns_watch.hpp"
#include "discovery/pod_diff.hpp"

namespace svcproxy::discovery {
namespace asio = boost::asio;

struct DnsDiscovery::Watch {
  Watch(asio::io_context& io, conf::Deployment spec) : deployment(std::move(spec)), timer(io) {}

  conf::Deployment deployment;
  DnsWatchState state;
  asio::steady_timer timer;
  std::optional<DnsResult> last_result;  // to log transitions, not every refresh
  bool stopped = false;
};

namespace {

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items)
    out += (out.empty() ? "" : ", ") + item;
  return out;
}

}  // namespace

DnsDiscovery::DnsDiscovery(asio::io_context& control, std::unique_ptr<DnsResolver> resolver,
                           ChangeHandler on_change, LogHandler log)
    : control_(control),
      resolver_(std::move(resolver)),
      on_change_(std::move(on_change)),
      log_(std::move(log)) {}

DnsDiscovery::~DnsDiscovery() {
  for (auto& [key, watch] : watches_) {
    watch->stopped = true;
    watch->timer.cancel();
  }
  watches_.clear();   // handlers still queued hold only weak references
  resolver_.reset();  // its cancelled lookups find no watch
}

void DnsDiscovery::update(const conf::Snapshot& snapshot) {
  if (!servers_set_ || snapshot.proxy.dns_servers != servers_) {
    // Lookups in flight are cancelled by this and start again on the new servers.
    const std::string error = resolver_->set_servers(snapshot.proxy.dns_servers);
    if (error.empty()) {
      servers_ = snapshot.proxy.dns_servers;
      servers_set_ = true;
      log_(DnsLogLevel::Info, "dns: asking " + (servers_.empty() ? "the servers of /etc/resolv.conf"
                                                                 : join(servers_)));
    } else {
      log_(DnsLogLevel::Warn, "dns: " + error + "; keeping the previous servers");
    }
  }

  std::map<std::string, std::shared_ptr<Watch>> next;
  for (const auto& deployment : snapshot.deployments) {
    if (deployment.dns_name.empty()) continue;
    const std::string key = deployment.key();
    auto found = watches_.find(key);
    if (found != watches_.end() && found->second->deployment.dns_name == deployment.dns_name) {
      found->second->deployment = deployment;  // new template and refresh, same addresses
      next.emplace(key, found->second);
      watches_.erase(found);
      continue;
    }
    log_(DnsLogLevel::Info, "dns: deployment " + key + " follows " + deployment.dns_name +
                                " every " + std::to_string(deployment.dns_refresh.count()) + "ms");
    auto watch = std::make_shared<Watch>(control_, deployment);
    next.emplace(key, watch);
    schedule(watch, conf::Duration::zero());
  }
  for (auto& [key, watch] : watches_) {  // removed or re-targeted
    watch->stopped = true;
    watch->timer.cancel();
  }
  watches_ = std::move(next);
}

std::vector<conf::Pod> DnsDiscovery::pods() const {
  std::vector<conf::Pod> all;
  for (const auto& [key, watch] : watches_) {
    auto pods = dns_pods(watch->deployment, watch->state.addresses());
    all.insert(all.end(), std::make_move_iterator(pods.begin()),
               std::make_move_iterator(pods.end()));
  }
  return all;
}

std::vector<conf::Pod> DnsDiscovery::pods(const std::string& deployment_key) const {
  const auto found = watches_.find(deployment_key);
  if (found == watches_.end()) return {};
  return dns_pods(found->second->deployment, found->second->state.addresses());
}

void DnsDiscovery::schedule(const std::shared_ptr<Watch>& watch, conf::Duration delay) {
  watch->timer.expires_after(delay);
  watch->timer.async_wait(
      [this, weak = std::weak_ptr<Watch>(watch)](const boost::system::error_code& error) {
        auto watch = weak.lock();
        if (error || !watch || watch->stopped) return;
        start_lookup(watch);
      });
}

void DnsDiscovery::start_lookup(const std::shared_ptr<Watch>& watch) {
  resolver_->resolve(watch->deployment.dns_name,
                     [this, weak = std::weak_ptr<Watch>(watch)](DnsLookup lookup) {
                       auto watch = weak.lock();
                       if (!watch || watch->stopped) return;
                       on_lookup(watch, lookup);
                     });
}

void DnsDiscovery::on_lookup(const std::shared_ptr<Watch>& watch, const DnsLookup& lookup) {
  const conf::Deployment& deployment = watch->deployment;
  if (lookup.cancelled) {  // the servers changed under it: ask the new ones
    schedule(watch, conf::Duration::zero());
    return;
  }
  const auto before = dns_pods(deployment, watch->state.addresses());
  const auto outcome = watch->state.on_lookup(lookup, deployment.dns_refresh);
  ++counters_[static_cast<int>(outcome.result)];
  const std::size_t count = watch->state.addresses().size();
  const std::string subject =
      "dns: " + deployment.dns_name + " (deployment " + deployment.key() + ")";

  if (outcome.result != watch->last_result) {
    if (outcome.result != DnsResult::Success && !outcome.changed)
      log_(DnsLogLevel::Warn,
           subject + ": " + to_string(outcome.result) +
               (count > 0 ? "; keeping the last " + std::to_string(count) + " addresses" : ""));
    if (!watch->last_result && !outcome.changed)  // first lookup, nothing resolved
      log_(count == std::size_t(deployment.replicas) ? DnsLogLevel::Info : DnsLogLevel::Warn,
           resolved_summary(deployment, count));
  }
  watch->last_result = outcome.result;

  if (outcome.changed) {
    auto pods = dns_pods(deployment, watch->state.addresses());
    const PodDiff diff = diff_pods(before, pods);
    std::string change;
    for (const auto& pod : diff.added)
      change += " +" + pod.pod_ip;
    for (const auto& pod : diff.removed)
      change += " -" + pod.pod_ip;
    log_(DnsLogLevel::Info, subject + ": " + std::to_string(count) + " addresses;" + change);
    log_(count == std::size_t(deployment.replicas) ? DnsLogLevel::Info : DnsLogLevel::Warn,
         resolved_summary(deployment, count));
    on_change_(deployment.key(), pods);
  }
  schedule(watch, outcome.next_lookup);
}

}  // namespace svcproxy::discovery

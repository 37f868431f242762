#include "server/control/cluster_node.hpp"

#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <ctime>
#include <set>
#include <string_view>

#include "cluster/kube_time.hpp"
#include "conf/addresses.hpp"
#include "server/log/log.hpp"

namespace svcproxy::server {
namespace json = boost::json;

namespace {

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "node";
  return name;
}

void log_line(bool warning, const std::string& line) {
  log(warning ? LogLevel::Warn : LogLevel::Info, line);
}

// A stored Node's InternalIP and zone label (empty when absent).
struct NodeFacts {
  std::string address;
  std::string zone;
};

std::string zone_label(const json::object& node) {
  const json::value* metadata = node.if_contains("metadata");
  const json::value* labels =
      metadata && metadata->is_object() ? metadata->as_object().if_contains("labels") : nullptr;
  const json::value* zone =
      labels && labels->is_object() ? labels->as_object().if_contains(conf::kZoneLabel) : nullptr;
  return zone && zone->is_string() ? std::string(zone->as_string()) : std::string();
}

std::string internal_ip(const json::object& node) {
  const json::value* status = node.if_contains("status");
  const json::value* addresses =
      status && status->is_object() ? status->as_object().if_contains("addresses") : nullptr;
  if (!addresses || !addresses->is_array()) return {};
  for (const auto& item : addresses->as_array()) {
    if (!item.is_object()) continue;
    const json::value* type = item.as_object().if_contains("type");
    const json::value* address = item.as_object().if_contains("address");
    if (type && address && type->is_string() && address->is_string() &&
        type->as_string() == "InternalIP")
      return std::string(address->as_string());
  }
  return {};
}

NodeFacts node_facts(std::string_view node_json) {
  boost::system::error_code error;
  json::value node = json::parse(node_json, error);
  if (error || !node.is_object()) return {};
  return {internal_ip(node.as_object()), zone_label(node.as_object())};
}

std::chrono::seconds whole_seconds(conf::Duration duration) {
  return std::max(std::chrono::seconds(1),
                  std::chrono::duration_cast<std::chrono::seconds>(duration));
}

}  // namespace

std::string advertise_address(const conf::ProxySettings& proxy) {
  if (!proxy.etcd.advertise_address.empty()) return proxy.etcd.advertise_address;
  for (const auto& address : proxy.node_port_addresses)
    if (address != "0.0.0.0" && address != "::" && conf::is_ip(address)) return address;
  return "127.0.0.1";
}

ClusterNode::ClusterNode(boost::asio::io_context& control,
                         std::vector<cluster::EtcdEndpoint> endpoints,
                         const conf::EtcdSettings& settings, const conf::ProxySettings& proxy,
                         std::function<void()> on_change)
    : settings_(settings),
      node_name_(proxy.node_name.empty() ? host_name() : proxy.node_name),
      client_(control.get_executor(), std::move(endpoints),
              std::chrono::duration_cast<std::chrono::milliseconds>(settings.request_timeout)),
      sync_(
          control, client_, cluster::RegistryLayout(settings.prefix),
          {std::chrono::duration_cast<std::chrono::milliseconds>(settings.resync_period),
           std::chrono::seconds(1), std::chrono::milliseconds(20)},
          stats_,
          [this, on_change = std::move(on_change)] {
            refresh_nodes(lb::Clock::now());
            on_change();
          },
          log_line),
      status_writer_(control, client_, cluster::RegistryLayout(settings.prefix)) {
  if (!settings.edge)
    registration_ = std::make_unique<cluster::NodeRegistration>(
        control, client_, cluster::RegistryLayout(settings.prefix), node_name_,
        advertise_address(proxy), proxy.zone, whole_seconds(settings.lease_ttl), stats_, log_line);
}

ClusterNode::~ClusterNode() = default;

void ClusterNode::start() {
  log(LogLevel::Info, "cluster: node ", node_name_, settings_.edge ? " (edge)" : "",
      ", state in etcd at ", client_.current_endpoint().url, " under ", settings_.prefix);
  sync_.start();
  if (registration_) registration_->start();
}

void ClusterNode::leave() {
  if (registration_) registration_->leave();
  sync_.stop();
}

namespace {

// The objects under `folder` (the sync keeps only keys that parse as objects), in key order.
template <typename Visit>
void for_each_in(const cluster::ClusterSync::Objects& objects, const std::string& folder,
                 Visit&& visit) {
  for (auto it = objects.lower_bound(folder);
       it != objects.end() && std::string_view(it->first).starts_with(folder); ++it)
    visit(std::string_view(it->first).substr(folder.size()), it->second);
}

}  // namespace

std::vector<conf::InlineDocument> ClusterNode::documents() const {
  const auto& layout = sync_.layout();
  // The kinds the loader reads, in key order (as one walk over every key would give them).
  std::vector<std::string> folders;
  for (auto kind : {cluster::StoredKind::Service, cluster::StoredKind::Pod,
                    cluster::StoredKind::Deployment, cluster::StoredKind::Secret})
    folders.push_back(layout.folder(kind));
  std::sort(folders.begin(), folders.end());
  std::vector<conf::InlineDocument> documents;
  for (const auto& folder : folders)
    for_each_in(sync_.objects(), folder, [&](std::string_view name, const cluster::KeyValue& kv) {
      documents.push_back({folder + std::string(name), kv.value});
    });
  return documents;
}

// Runs on every change, over the Pods of a 50,000-Pod cluster: the Pod conditions are merged
// into what is known (both are in key order) instead of rebuilt, so an unchanged Pod costs
// a comparison, not an allocation and a JSON parse.
void ClusterNode::refresh_nodes(lb::Clock::time_point now) {
  const auto& layout = sync_.layout();
  const auto& objects = sync_.objects();
  auto known = pod_ready_.begin();
  for_each_in(objects, layout.folder(cluster::StoredKind::Pod),
              [&](std::string_view pod, const cluster::KeyValue& kv) {
                while (known != pod_ready_.end() && known->first < pod)
                  known = pod_ready_.erase(known);
                if (known != pod_ready_.end() && known->first == pod) {
                  if (known->second.mod_revision != kv.mod_revision)
                    known->second = {kv.mod_revision, cluster::pod_ready_condition(kv.value)};
                  ++known;
                } else {
                  pod_ready_.emplace_hint(
                      known, std::string(pod),
                      PodCondition{kv.mod_revision, cluster::pod_ready_condition(kv.value)});
                }
              });
  pod_ready_.erase(known, pod_ready_.end());

  std::set<std::string, std::less<>> alive;
  for_each_in(objects, layout.node_leases_prefix(),
              [&](std::string_view name, const cluster::KeyValue&) { alive.emplace(name); });
  std::map<std::string, NodeState> nodes;
  for_each_in(
      objects, layout.folder(cluster::StoredKind::Node),
      [&](std::string_view node, const cluster::KeyValue& kv) {
        const std::string name(node);
        NodeFacts facts = node_facts(kv.value);
        NodeState state{std::move(facts.address), std::nullopt, std::move(facts.zone)};
        if (!alive.contains(name)) {
          auto before = nodes_.find(name);
          state.lease_gone_since = before != nodes_.end() && before->second.lease_gone_since
                                       ? before->second.lease_gone_since
                                       : now;
          if (before == nodes_.end() || !before->second.lease_gone_since)
            log(LogLevel::Warn, "cluster: node ", name,
                " lost its lease; its pods turn not ready in ",
                std::chrono::duration_cast<std::chrono::seconds>(settings_.node_grace_period)
                    .count(),
                "s unless it comes back");
        } else if (auto before = nodes_.find(name);
                   before != nodes_.end() && before->second.lease_gone_since) {
          log(LogLevel::Info, "cluster: node ", name, " is back");
        }
        nodes.emplace(name, std::move(state));
      });
  nodes_ = std::move(nodes);
}

void ClusterNode::complete(conf::Snapshot& snapshot, lb::Clock::time_point) {
  auto& nodes = snapshot.proxy.nodes;
  if (settings_.edge) {
    std::vector<conf::NodeRef> live;
    for (const auto& [name, state] : nodes_)
      if (!state.lease_gone_since && !state.address.empty())
        live.push_back({name, state.address, state.zone});
    nodes = std::move(live);
    return;
  }
  // Zones only (no address: no traffic goes to them), as kube-proxy reads them from the
  // Nodes; a node whose lease is gone is still where it was. The files' entries win.
  for (const auto& [name, state] : nodes_) {
    if (state.zone.empty() || name == node_name_) continue;
    if (std::none_of(nodes.begin(), nodes.end(),
                     [&](const conf::NodeRef& node) { return node.name == name; }))
      nodes.push_back({name, "", state.zone});
  }
}

ClusterNode::Verdict ClusterNode::verdict(const lb::EndpointAddress& address,
                                          lb::Clock::time_point now) const {
  if (address.pod_namespace.empty() || address.node_name.empty() || address.node_name == node_name_)
    return Verdict::Probe;
  const auto node = nodes_.find(address.node_name);
  if (node == nodes_.end()) return Verdict::Probe;
  if (node->second.lease_gone_since &&
      now - *node->second.lease_gone_since >= settings_.node_grace_period)
    return Verdict::NotReady;
  const auto pod = pod_ready_.find(address.pod_key());
  if (pod == pod_ready_.end() || !pod->second.ready)
    return address.readiness_probe ? Verdict::NotReady : Verdict::Ready;
  return *pod->second.ready ? Verdict::Ready : Verdict::NotReady;
}

std::optional<lb::Clock::time_point> ClusterNode::next_grace_end() const {
  std::optional<lb::Clock::time_point> next;
  for (const auto& [name, state] : nodes_)
    if (state.lease_gone_since) {
      const auto end = *state.lease_gone_since + settings_.node_grace_period;
      if (!next || end < *next) next = end;
    }
  return next;
}

void ClusterNode::report_readiness(const lb::EndpointAddress& address, bool ready) {
  if (settings_.edge || address.pod_namespace.empty() || address.node_name != node_name_) return;
  const std::string pod = address.pod_key();
  auto [slot, inserted] = reported_.try_emplace(pod, ready);
  if (!inserted && slot->second == ready) {
    // Written before; still say it when the stored object disagrees (an apply replaced it).
    auto stored = pod_ready_.find(pod);
    if (stored == pod_ready_.end() || stored->second.ready == ready) return;
  }
  slot->second = ready;
  status_writer_.report(address.pod_namespace, address.pod_name, ready);
}

std::string ClusterNode::health_line() const {
  if (stats_.connected) return "cluster: connected to " + client_.current_endpoint().url;
  return "cluster: disconnected since " + cluster::rfc3339(stats_.disconnected_since_unix_seconds) +
         (stats_.last_error.empty() ? std::string() : " (" + stats_.last_error + ")");
}

std::int64_t ClusterNode::revision_of(cluster::StoredKind kind, std::string_view namespace_name,
                                      std::string_view name) const {
  const auto found = sync_.objects().find(sync_.layout().object_key(kind, namespace_name, name));
  return found == sync_.objects().end() ? 0 : found->second.mod_revision;
}

}  // namespace svcproxy::server

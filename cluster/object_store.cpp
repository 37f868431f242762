// GCC 12 reports a false mismatched-new-delete on Asio's awaitable frames in this file.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#include "cluster/object_store.hpp"

#include <algorithm>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <ctime>
#include <map>
#include <random>
#include <set>
#include <utility>

#include "cluster/kube_time.hpp"
#include "conf/allocation.hpp"

namespace svcproxy::cluster {
namespace json = boost::json;
using boost::asio::awaitable;

namespace {

std::string owner_of(const conf::ManifestObject& object) {
  return object.namespace_name + "/" + object.name;
}

std::optional<json::object> parse_object(std::string_view text) {
  boost::system::error_code error;
  json::value value = json::parse(text, error);
  if (error || !value.is_object()) return std::nullopt;
  return std::move(value.as_object());
}

json::object& child_object(json::object& parent, std::string_view name) {
  json::value& child = parent[name];
  if (!child.is_object()) child = json::object();
  return child.as_object();
}

const json::object* find_object(const json::object& parent, std::string_view name) {
  const json::value* child = parent.if_contains(name);
  return child ? child->if_object() : nullptr;
}

std::string string_at(const json::object& parent, std::string_view name) {
  const json::value* child = parent.if_contains(name);
  return child && child->is_string() ? std::string(child->as_string()) : std::string();
}

int int_at(const json::object& parent, std::string_view name) {
  const json::value* child = parent.if_contains(name);
  if (!child) return 0;
  if (child->is_int64()) return static_cast<int>(child->as_int64());
  if (child->is_uint64()) return static_cast<int>(child->as_uint64());
  return 0;
}

std::string new_uid() {
  static thread_local std::mt19937_64 random{std::random_device{}()};
  const std::uint64_t high = random(), low = random();
  char text[40];
  std::snprintf(text, sizeof text, "%08x-%04x-4%03x-%04x-%012llx",
                static_cast<unsigned>(high >> 32), static_cast<unsigned>((high >> 16) & 0xffff),
                static_cast<unsigned>(high & 0x0fff),
                static_cast<unsigned>(0x8000 | ((low >> 48) & 0x3fff)),
                static_cast<unsigned long long>(low & 0xffffffffffffULL));
  return text;
}

// What a stored or applied Service says about its addresses.
struct PortView {
  std::string name;
  int port = 0;
  std::string protocol;
  int node_port = 0;
};

struct ServiceView {
  bool node_ports = false;  // NodePort or LoadBalancer
  // LoadBalancer + externalTrafficPolicy Local: holds a healthCheckNodePort.
  bool health_check = false;
  int health_check_node_port = 0;
  std::string cluster_ip;  // "" when none is written; "None" for headless
  std::vector<PortView> ports;
};

ServiceView service_view(const json::object& service) {
  ServiceView view;
  const json::object* spec = find_object(service, "spec");
  if (!spec) return view;
  const std::string type = string_at(*spec, "type");
  // allocateLoadBalancerNodePorts: false keeps a LoadBalancer to the nodePorts it names.
  const json::value* allocate = spec->if_contains("allocateLoadBalancerNodePorts");
  view.node_ports =
      type == "NodePort" ||
      (type == "LoadBalancer" && !(allocate && allocate->is_bool() && !allocate->as_bool()));
  view.health_check =
      type == "LoadBalancer" && string_at(*spec, "externalTrafficPolicy") == "Local";
  if (view.health_check) view.health_check_node_port = int_at(*spec, "healthCheckNodePort");
  view.cluster_ip = string_at(*spec, "clusterIP");
  if (const json::value* ports = spec->if_contains("ports"); ports && ports->is_array())
    for (const auto& item : ports->as_array()) {
      if (!item.is_object()) continue;
      const json::object& port = item.as_object();
      std::string protocol = string_at(port, "protocol");
      view.ports.push_back({string_at(port, "name"), int_at(port, "port"),
                            protocol.empty() ? "TCP" : protocol, int_at(port, "nodePort")});
    }
  return view;
}

// Allocation keys and who should hold them.
using Claims = std::map<std::string, std::string>;

Claims claims_of(const ServiceView& view, const StoreSettings& settings) {
  Claims claims;
  if (!view.cluster_ip.empty() && view.cluster_ip != "None")
    claims[settings.layout.cluster_ip_key(view.cluster_ip)];
  if (view.node_ports)
    for (const auto& port : view.ports)
      if (port.node_port != 0) claims[settings.layout.node_port_key(port.node_port)];
  if (view.health_check_node_port != 0)
    claims[settings.layout.node_port_key(view.health_check_node_port)];
  return claims;
}

conf::Diagnostic failure_at(const conf::ManifestObject& object, std::string field,
                            std::string message) {
  return {object.location, std::move(field), std::move(message)};
}

StoreReport failed(const conf::ManifestObject& object, std::string object_name, std::string field,
                   std::string message) {
  return {StoreOutcome::Failed, std::move(object_name),
          failure_at(object, std::move(field), std::move(message))};
}

std::string object_name(StoredKind kind, const conf::ManifestObject& object) {
  return std::string(kubectl_name(kind)) + "/" + object.name;
}

// The keys under `prefix`, values and revisions included (allocation keys are short).
awaitable<Result<std::map<std::string, std::string>>> list_values(KvStore& store,
                                                                  const std::string& prefix) {
  auto listed = co_await store.range(prefix, prefix_end(prefix));
  if (!listed) co_return Result<std::map<std::string, std::string>>::failure(listed.error);
  std::map<std::string, std::string> values;
  for (auto& kv : listed.value->kvs)
    values.emplace(std::move(kv.key), std::move(kv.value));
  co_return Result<std::map<std::string, std::string>>{std::move(values), {}};
}

// Fills in the Service's ClusterIP and NodePorts: written ones stay, ones the stored
// object holds are kept, the rest are picked among what no other Service holds.
// Returns an error message for a pool with nothing left.
std::optional<std::string> allocate(json::object& stored, const json::object* existing,
                                    const StoreSettings& settings, const std::string& owner,
                                    const std::map<std::string, std::string>& taken_ips,
                                    const std::map<std::string, std::string>& taken_ports) {
  json::object& spec = child_object(stored, "spec");
  if (string_at(spec, "type") == "ExternalName") return std::nullopt;  // a name: nothing to hold
  const ServiceView wanted = service_view(stored);
  const ServiceView held = existing ? service_view(*existing) : ServiceView{};
  std::string ip = wanted.cluster_ip;
  if (ip.empty() && held.cluster_ip != "None") ip = held.cluster_ip;
  if (ip.empty()) {
    const auto picked =
        conf::pick_cluster_ip(settings.service_cidr, owner, [&](std::uint32_t address) {
          auto found = taken_ips.find(settings.layout.cluster_ip_key(conf::format_ipv4(address)));
          return found != taken_ips.end() && found->second != owner;
        });
    if (!picked) return "serviceCIDR " + settings.service_cidr_text + " has no free address left";
    ip = conf::format_ipv4(*picked);
  }
  spec["clusterIP"] = ip;
  spec["clusterIPs"] = json::array{json::string(ip)};

  std::set<int> chosen;
  if (wanted.node_ports)
    for (const auto& port : wanted.ports)
      if (port.node_port != 0) chosen.insert(port.node_port);
  const auto free_port = [&](int candidate) {
    if (chosen.contains(candidate)) return false;
    auto found = taken_ports.find(settings.layout.node_port_key(candidate));
    return found == taken_ports.end() || found->second == owner;
  };
  if (wanted.health_check) {
    int port = wanted.health_check_node_port;
    if (port == 0 && held.health_check_node_port != 0 &&
        !chosen.contains(held.health_check_node_port))
      port = held.health_check_node_port;
    if (port == 0) {
      const auto picked = conf::pick_node_port(
          settings.node_port_range, conf::health_check_node_port_hash_key(owner),
          [&](int candidate) { return !free_port(candidate); });
      if (!picked) return "nodePortRange has no free port left";
      port = *picked;
    }
    chosen.insert(port);
    spec["healthCheckNodePort"] = port;
  }
  if (!wanted.node_ports) return std::nullopt;
  json::array& ports = spec["ports"].as_array();
  for (std::size_t i = 0; i < wanted.ports.size(); ++i) {
    const PortView& port = wanted.ports[i];
    if (port.node_port != 0) continue;
    int node_port = 0;
    for (const auto& before : held.ports)
      if (before.node_port != 0 && !chosen.contains(before.node_port) &&
          (port.name.empty() ? before.port == port.port && before.name.empty()
                             : before.name == port.name) &&
          before.protocol == port.protocol)
        node_port = before.node_port;
    if (node_port == 0) {
      const auto picked = conf::pick_node_port(
          settings.node_port_range, conf::node_port_hash_key(owner, port.name, port.port),
          [&](int candidate) { return !free_port(candidate); });
      if (!picked) return "nodePortRange has no free port left";
      node_port = *picked;
    }
    chosen.insert(node_port);
    ports[i].as_object()["nodePort"] = node_port;
  }
  return std::nullopt;
}

void fill_service_defaults(json::object& stored) {
  json::object& spec = child_object(stored, "spec");
  if (!spec.contains("type")) spec["type"] = "ClusterIP";
  if (!spec.contains("sessionAffinity")) spec["sessionAffinity"] = "None";
  if (json::value* ports = spec.if_contains("ports"); ports && ports->is_array())
    for (auto& item : ports->as_array()) {
      if (!item.is_object()) continue;
      json::object& port = item.as_object();
      if (!port.contains("protocol")) port["protocol"] = "TCP";
      if (!port.contains("targetPort") && port.contains("port")) port["targetPort"] = port["port"];
    }
}

// What apply and delete work on: the object's kind, its kubectl name, its key and the
// "namespace/name" its allocation keys hold.
struct Target {
  StoredKind kind;
  std::string name;
  std::string key;
  std::string owner;
};

std::optional<Target> target_of(const StoreSettings& settings, const conf::ManifestObject& object) {
  const auto kind = stored_kind(object.kind);
  if (!kind) return std::nullopt;
  return Target{*kind, object_name(*kind, object),
                settings.layout.object_key(*kind, object.namespace_name, object.name),
                owner_of(object)};
}

}  // namespace

namespace store_detail {

json::object stored_form(const conf::ManifestObject& object, const json::object* existing) {
  json::object stored = object.json;
  json::object& metadata = child_object(stored, "metadata");
  metadata["namespace"] = object.namespace_name;
  for (const char* server_set : {"resourceVersion", "selfLink", "managedFields", "generation"})
    metadata.erase(server_set);
  const json::object* old_metadata = existing ? find_object(*existing, "metadata") : nullptr;
  const std::string uid = old_metadata ? string_at(*old_metadata, "uid") : std::string();
  metadata["uid"] = uid.empty() ? new_uid() : uid;
  const std::string created = old_metadata ? string_at(*old_metadata, "creationTimestamp") : "";
  metadata["creationTimestamp"] = created.empty() ? rfc3339_now() : created;
  if (object.kind == "Service") fill_service_defaults(stored);
  // A Pod's Ready condition is written by its node; an apply does not undo it.
  if (object.kind == "Pod" && existing)
    if (const json::object* old_status = find_object(*existing, "status"))
      if (const json::value* conditions = old_status->if_contains("conditions")) {
        json::object& status = child_object(stored, "status");
        if (!status.contains("conditions")) status["conditions"] = *conditions;
      }
  return stored;
}

}  // namespace store_detail

std::optional<std::string> unsupported_service_cidr(const conf::ProxySettings& proxy) {
  if (conf::parse_ipv4_cidr(proxy.service_cidr)) return std::nullopt;
  return "serviceCIDR \"" + proxy.service_cidr +
         "\": cluster mode allocates IPv4 ClusterIPs only (an IPv6 or dual-stack serviceCIDR "
         "works in file mode)";
}

StoreSettings store_settings(const conf::ProxySettings& proxy, const std::string& prefix) {
  StoreSettings settings{RegistryLayout(prefix), {}, proxy.service_cidr, proxy.node_port_range};
  if (auto cidr = conf::parse_ipv4_cidr(proxy.service_cidr)) settings.service_cidr = *cidr;
  return settings;
}

std::string StoreReport::line() const {
  switch (outcome) {
    case StoreOutcome::Created:
      return object + " created";
    case StoreOutcome::Configured:
      return object + " configured";
    case StoreOutcome::Unchanged:
      return object + " unchanged";
    case StoreOutcome::Deleted:
      return object + " deleted";
    case StoreOutcome::NotFound:
      return object + " not found";
    case StoreOutcome::AlreadyExists:
      return object + " already exists";
    case StoreOutcome::Conflict:
      return object + " was changed since it was read; read it again";
    case StoreOutcome::Failed:
      break;
  }
  return object + " failed" + (error ? ": " + error->to_string() : std::string());
}

awaitable<conf::Diagnostics> find_allocation_conflicts(KvStore& store,
                                                       const StoreSettings& settings,
                                                       const conf::ServiceList& services) {
  conf::Diagnostics conflicts;
  const auto check = [&](const std::string& key, const std::string& owner,
                         const conf::SourceLocation& at, std::string field,
                         std::string what) -> awaitable<void> {
    auto held = co_await store.range(key, "");
    if (!held || held.value->kvs.empty()) co_return;
    const std::string& holder = held.value->kvs.front().value;
    if (holder != owner)
      conflicts.push_back(
          {at, std::move(field), what + " is already allocated by " + holder + " in the cluster"});
  };
  for (const auto& service : services) {
    const std::string owner = service.key();
    if (service.cluster_ip_location.line != 0 && !service.headless)
      co_await check(settings.layout.cluster_ip_key(service.cluster_ip), owner,
                     service.cluster_ip_location, "spec.clusterIP",
                     "clusterIP " + service.cluster_ip);
    if (!conf::has_node_ports(service)) continue;
    for (std::size_t i = 0; i < service.ports.size(); ++i) {
      const auto& port = service.ports[i];
      if (port.node_port_location.line == 0) continue;
      co_await check(settings.layout.node_port_key(port.node_port), owner, port.node_port_location,
                     "spec.ports[" + std::to_string(i) + "].nodePort",
                     "nodePort " + std::to_string(port.node_port));
    }
  }
  co_return conflicts;
}

awaitable<StoreReport> apply_object(KvStore& store, const StoreSettings& settings,
                                    const conf::ManifestObject& object,
                                    WritePrecondition precondition) {
  const auto target = target_of(settings, object);
  if (!target) co_return failed(object, object.kind + "/" + object.name, "kind", "is not stored");
  // Plain references, not a structured binding: these live across co_await.
  const StoredKind kind = target->kind;
  const std::string& name = target->name;
  const std::string& key = target->key;
  const std::string& owner = target->owner;
  const bool is_service = kind == StoredKind::Service;

  std::string last_race;
  for (int attempt = 0; attempt < settings.max_attempts; ++attempt) {
    if (attempt > 0) {
      // Let the other writer finish; in a burst of applies the spread matters more than
      // the wait.
      static thread_local std::mt19937 random{std::random_device{}()};
      boost::asio::steady_timer pause(co_await boost::asio::this_coro::executor);
      pause.expires_after(std::chrono::milliseconds(
          std::uniform_int_distribution<int>(1, std::min(50, 2 << std::min(attempt, 5)))(random)));
      co_await pause.async_wait(boost::asio::use_awaitable);
    }
    auto read = co_await store.range(key, "");
    if (!read) co_return failed(object, name, "", read.error);
    std::optional<json::object> existing;
    std::int64_t existing_revision = 0;
    if (!read.value->kvs.empty()) {
      existing = parse_object(read.value->kvs.front().value);
      existing_revision = read.value->kvs.front().mod_revision;
    }
    using Exists = WritePrecondition::Exists;
    if (!read.value->kvs.empty() && precondition.exists == Exists::Absent)
      co_return StoreReport{StoreOutcome::AlreadyExists, name, std::nullopt};
    if (!read.value->kvs.empty() && precondition.revision != 0 &&
        existing_revision != precondition.revision)
      co_return StoreReport{StoreOutcome::Conflict, name, std::nullopt};
    if (read.value->kvs.empty() && precondition.exists == Exists::Present)
      co_return StoreReport{StoreOutcome::NotFound, name, std::nullopt};
    json::object stored = store_detail::stored_form(object, existing ? &*existing : nullptr);

    Claims wanted, held;
    if (is_service) {
      auto ips = co_await list_values(store, settings.layout.cluster_ips_prefix());
      auto ports = co_await list_values(store, settings.layout.node_ports_prefix());
      if (!ips) co_return failed(object, name, "", ips.error);
      if (!ports) co_return failed(object, name, "", ports.error);
      const ServiceView before = existing ? service_view(*existing) : ServiceView{};
      const ServiceView written = service_view(stored);
      if (existing && !written.cluster_ip.empty() && !before.cluster_ip.empty() &&
          written.cluster_ip != before.cluster_ip)
        co_return failed(object, name, "spec.clusterIP",
                         "field is immutable: the Service holds " + before.cluster_ip);
      if (auto full = allocate(stored, existing ? &*existing : nullptr, settings, owner, *ips.value,
                               *ports.value))
        co_return failed(object, name, "spec", *full);
      wanted = claims_of(service_view(stored), settings);
      held = existing ? claims_of(before, settings) : Claims{};
    }

    const std::string value = json::serialize(stored);
    if (existing && read.value->kvs.front().value == value)
      co_return StoreReport{StoreOutcome::Unchanged, name, std::nullopt, std::move(stored),
                            existing_revision};

    Txn txn;
    txn.compare.push_back(existing ? Compare::modified_at(key, existing_revision)
                                   : Compare::absent(key));
    txn.success.push_back(Operation::put(key, value));
    std::vector<std::string> claimed;
    for (const auto& [claim, unused] : wanted)
      if (!held.contains(claim)) {
        txn.compare.push_back(Compare::absent(claim));
        txn.success.push_back(Operation::put(claim, owner));
        txn.failure.push_back(Operation::get(claim));
        claimed.push_back(claim);
      }
    for (const auto& [release, unused] : held)
      if (!wanted.contains(release)) txn.success.push_back(Operation::remove(release));
    auto written = co_await store.txn(std::move(txn));
    if (!written) co_return failed(object, name, "", written.error);
    if (written.value->succeeded)
      co_return StoreReport{existing ? StoreOutcome::Configured : StoreOutcome::Created, name,
                            std::nullopt, std::move(stored), written.value->revision};
    // Lost a race. A value written in the manifest that someone else now holds will not
    // come free by retrying; anything picked here is picked again.
    const ServiceView manifest = is_service ? service_view(object.json) : ServiceView{};
    for (std::size_t i = 0; i < claimed.size() && i < written.value->gets.size(); ++i) {
      const auto& kvs = written.value->gets[i].kvs;
      if (kvs.empty() || kvs.front().value == owner) continue;
      const bool explicit_ip = !manifest.cluster_ip.empty() &&
                               claimed[i] == settings.layout.cluster_ip_key(manifest.cluster_ip);
      if (explicit_ip)
        co_return failed(
            object, name, "spec.clusterIP",
            "clusterIP " + manifest.cluster_ip + " is already allocated by " + kvs.front().value);
      if (manifest.health_check_node_port != 0 &&
          claimed[i] == settings.layout.node_port_key(manifest.health_check_node_port))
        co_return failed(object, name, "spec.healthCheckNodePort",
                         "healthCheckNodePort " + std::to_string(manifest.health_check_node_port) +
                             " is already allocated by " + kvs.front().value);
      for (std::size_t p = 0; p < manifest.ports.size(); ++p)
        if (manifest.ports[p].node_port != 0 &&
            claimed[i] == settings.layout.node_port_key(manifest.ports[p].node_port))
          co_return failed(object, name, "spec.ports[" + std::to_string(p) + "].nodePort",
                           "nodePort " + std::to_string(manifest.ports[p].node_port) +
                               " is already allocated by " + kvs.front().value);
    }
    last_race = "another writer changed " + key + " or its allocations";
  }
  co_return failed(
      object, name, "",
      "gave up after " + std::to_string(settings.max_attempts) + " lost races: " + last_race);
}

awaitable<StoreReport> delete_object(KvStore& store, const StoreSettings& settings,
                                     const conf::ManifestObject& object, std::int64_t revision) {
  const auto target = target_of(settings, object);
  if (!target) co_return failed(object, object.kind + "/" + object.name, "kind", "is not stored");
  const StoredKind kind = target->kind;
  const std::string& name = target->name;
  const std::string& key = target->key;
  const std::string& owner = target->owner;
  for (int attempt = 0; attempt < settings.max_attempts; ++attempt) {
    auto read = co_await store.range(key, "");
    if (!read) co_return failed(object, name, "", read.error);
    if (read.value->kvs.empty()) co_return StoreReport{StoreOutcome::NotFound, name, std::nullopt};
    const KeyValue& current = read.value->kvs.front();
    if (revision != 0 && current.mod_revision != revision)
      co_return StoreReport{StoreOutcome::Conflict, name, std::nullopt};
    Txn txn;
    txn.compare.push_back(Compare::modified_at(key, current.mod_revision));
    txn.success.push_back(Operation::remove(key));
    if (kind == StoredKind::Service)
      if (auto stored = parse_object(current.value))
        for (const auto& [claim, unused] : claims_of(service_view(*stored), settings)) {
          // Only what this Service still holds is freed.
          auto held = co_await store.range(claim, "");
          if (!held) co_return failed(object, name, "", held.error);
          if (held.value->kvs.empty() || held.value->kvs.front().value != owner) continue;
          txn.compare.push_back(Compare::modified_at(claim, held.value->kvs.front().mod_revision));
          txn.success.push_back(Operation::remove(claim));
        }
    auto written = co_await store.txn(std::move(txn));
    if (!written) co_return failed(object, name, "", written.error);
    if (written.value->succeeded) co_return StoreReport{StoreOutcome::Deleted, name, std::nullopt};
  }
  co_return failed(object, name, "",
                   "gave up after " + std::to_string(settings.max_attempts) + " lost races");
}

}  // namespace svcproxy::cluster

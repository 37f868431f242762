#include "cluster/node_registration.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include "cluster/kube_time.hpp"
#include "conf/model.hpp"

namespace svcproxy::cluster {
namespace asio = boost::asio;
namespace json = boost::json;
using asio::awaitable;

std::string node_object_json(const std::string& node_name, const std::string& address,
                             const std::string& zone) {
  json::object labels{{"kubernetes.io/hostname", node_name}};
  if (!zone.empty()) labels[conf::kZoneLabel] = zone;
  return json::serialize(json::object{
      {"apiVersion", "v1"},
      {"kind", "Node"},
      {"metadata", {{"name", node_name}, {"labels", std::move(labels)}}},
      {"status",
       json::object{{"addresses",
                     json::array{json::object{{"type", "InternalIP"}, {"address", address}},
                                 json::object{{"type", "Hostname"}, {"address", node_name}}}}}}});
}

std::string lease_object_json(const std::string& node_name, std::chrono::seconds ttl) {
  return json::serialize(
      json::object{{"apiVersion", "coordination.k8s.io/v1"},
                   {"kind", "Lease"},
                   {"metadata", {{"name", node_name}, {"namespace", "kube-node-lease"}}},
                   {"spec",
                    {{"holderIdentity", node_name},
                     {"leaseDurationSeconds", ttl.count()},
                     {"renewTime", rfc3339_micro_now()}}}});
}

NodeRegistration::NodeRegistration(asio::io_context& control, EtcdClient& client,
                                   RegistryLayout layout, std::string node_name,
                                   std::string address, std::string zone, std::chrono::seconds ttl,
                                   ClusterStats& stats, LogFn log)
    : control_(control),
      client_(client),
      layout_(std::move(layout)),
      node_name_(std::move(node_name)),
      address_(std::move(address)),
      zone_(std::move(zone)),
      ttl_(ttl),
      stats_(stats),
      log_(std::move(log)),
      timer_(control) {}

NodeRegistration::~NodeRegistration() {
  *stopped_ = true;
  timer_.cancel();
}

void NodeRegistration::start() {
  asio::co_spawn(control_, run(), asio::detached);
}

void NodeRegistration::leave() {
  if (*stopped_) return;
  *stopped_ = true;
  timer_.cancel();
  if (lease_ == 0) return;
  asio::co_spawn(
      control_,
      [](EtcdClient& client, std::int64_t lease) -> awaitable<void> {
        co_await client.lease_revoke(lease);
      }(client_, lease_),
      asio::detached);
  log_(false, "cluster: node " + node_name_ + " left (lease revoked)");
}

// A fresh lease, then the Node (plain) and the Lease (on the lease) in one transaction.
awaitable<bool> NodeRegistration::register_once() {
  auto grant = co_await client_.lease_grant(ttl_.count());
  if (!grant) {
    ++stats_.lease_renewal_failures;
    co_return false;
  }
  lease_ = grant.value->id;
  Txn txn;
  txn.success.push_back(Operation::put(layout_.object_key(StoredKind::Node, "", node_name_),
                                       node_object_json(node_name_, address_, zone_)));
  txn.success.push_back(
      Operation::put(layout_.object_key(StoredKind::Lease, "kube-node-lease", node_name_),
                     lease_object_json(node_name_, ttl_), lease_));
  auto written = co_await client_.txn(std::move(txn));
  if (!written || !written.value->succeeded) {
    ++stats_.lease_renewal_failures;
    co_return false;
  }
  if (!registered_logged_)
    log_(false, "cluster: registered node " + node_name_ + " at " + address_ + " (lease " +
                    std::to_string(ttl_.count()) + "s)");
  registered_logged_ = true;
  co_return true;
}

awaitable<void> NodeRegistration::run() {
  auto stopped = stopped_;
  const auto renew_every = std::max<std::chrono::milliseconds>(
      std::chrono::milliseconds(500),
      std::chrono::duration_cast<std::chrono::milliseconds>(ttl_) / 3);
  bool registered = false;
  while (!*stopped) {
    if (!registered) {
      registered = co_await register_once();
      if (*stopped) break;
      if (!registered) {
        timer_.expires_after(std::chrono::seconds(1));
        co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
        continue;
      }
    }
    timer_.expires_after(renew_every);
    co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    if (*stopped) break;
    auto kept = co_await client_.lease_keepalive(lease_);
    if (*stopped) break;
    if (!kept) {
      ++stats_.lease_renewal_failures;
      continue;  // etcd away: keep trying; the lease may still be alive when it is back
    }
    if (*kept.value == 0) {
      // Expired while etcd was unreachable (or revoked): register again.
      ++stats_.lease_renewal_failures;
      log_(true, "cluster: lease of node " + node_name_ + " had expired; registering again");
      registered = false;
      continue;
    }
    ++stats_.lease_renewals;
  }
}

}  // namespace svcproxy::cluster

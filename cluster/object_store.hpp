// Writing manifests into the cluster state and deleting them: what `svcproxy apply` and
// `svcproxy delete` do, one object at a time, against any KvStore (etcd, or an in-memory
// store in tests).
//
// Every write is one compare-and-swap transaction: an object is created only if its key is
// absent and updated only if its mod_revision is still the one read; a Service's ClusterIP
// and NodePorts are claimed in the same transaction, one key each, only if absent. A lost
// race is read again and retried, so two applies of different Services never share an
// address and two applies of the same one converge.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cluster/etcd_client.hpp"
#include "cluster/registry_layout.hpp"
#include "conf/addresses.hpp"
#include "conf/diagnostics.hpp"
#include "conf/manifest_json.hpp"
#include "conf/model.hpp"

namespace svcproxy::cluster {

struct StoreSettings {
  RegistryLayout layout;
  conf::Ipv4Cidr service_cidr;
  std::string service_cidr_text;
  conf::PortRange node_port_range;
  int max_attempts = 64;  // lost races before giving up
};

// Why cluster mode cannot run with `proxy`'s serviceCIDR: its etcd allocation is IPv4 only,
// so an IPv6 or dual-stack serviceCIDR (file mode only, so far) is refused.
std::optional<std::string> unsupported_service_cidr(const conf::ProxySettings& proxy);

// serviceCIDR and nodePortRange of `proxy`, under `prefix`.
StoreSettings store_settings(const conf::ProxySettings& proxy, const std::string& prefix);

enum class StoreOutcome {
  Created,
  Configured,
  Unchanged,
  Deleted,
  NotFound,
  AlreadyExists,  // WritePrecondition::Exists::Absent found one
  Conflict,       // WritePrecondition::revision is no longer the object's
  Failed
};

// What a write expects to find, as the Kubernetes API's verbs do: `svcproxy apply` takes
// either, kubectl create wants no object, an update (PUT, PATCH) wants one, at the
// revision it read when it names one.
struct WritePrecondition {
  enum class Exists { Either, Absent, Present } exists = Exists::Either;
  std::int64_t revision = 0;  // the object's mod_revision must still be this; 0: any
};

struct StoreReport {
  StoreOutcome outcome = StoreOutcome::Failed;
  std::string object;  // "service/web"
  // For Failed: what went wrong, at the document (or the field) it is about.
  std::optional<conf::Diagnostic> error;
  // For Created, Configured and Unchanged: the object as stored and its mod_revision (what
  // the API shows as metadata.resourceVersion).
  boost::json::object stored = {};
  std::int64_t revision = 0;

  // "service/web created", as kubectl prints it.
  std::string line() const;
};

// Explicit ClusterIPs and NodePorts of `services` already held by another Service in the
// store: one diagnostic each, at the field, before anything is written.
boost::asio::awaitable<conf::Diagnostics> find_allocation_conflicts(
    KvStore& store, const StoreSettings& settings, const conf::ServiceList& services);

boost::asio::awaitable<StoreReport> apply_object(KvStore& store, const StoreSettings& settings,
                                                 const conf::ManifestObject& object,
                                                 WritePrecondition precondition = {});
// `revision`: the object's mod_revision must still be this (0: any), else Conflict.
boost::asio::awaitable<StoreReport> delete_object(KvStore& store, const StoreSettings& settings,
                                                  const conf::ManifestObject& object,
                                                  std::int64_t revision = 0);

// Pure steps, exposed for tests.
namespace store_detail {
// The manifest as stored: namespace filled in, server-set metadata carried over from
// `existing` (uid, creationTimestamp) or made, status the node writes (Pod conditions)
// carried over, Service defaults filled in as the API server does.
boost::json::object stored_form(const conf::ManifestObject& object,
                                const boost::json::object* existing);
}  // namespace store_detail

}  // namespace svcproxy::cluster

// The kubelet's half of readiness: a node writes the Ready condition of the pods it runs
// (spec.nodeName) into their stored Pod objects, so every other node uses one verdict
// instead of probing the pod itself. Writes are compare-and-swap on the Pod's revision;
// only the latest verdict per pod is kept while etcd is away. Control thread only.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "cluster/etcd_client.hpp"
#include "cluster/registry_layout.hpp"

namespace svcproxy::cluster {

class PodStatusWriter {
 public:
  PodStatusWriter(boost::asio::io_context& control, KvStore& store, RegistryLayout layout);
  ~PodStatusWriter();

  void report(const std::string& namespace_name, const std::string& name, bool ready);

 private:
  boost::asio::awaitable<void> flush();

  boost::asio::io_context& control_;
  KvStore& store_;
  RegistryLayout layout_;
  std::map<std::string, bool> pending_;  // by Pod key
  bool flushing_ = false;
  std::shared_ptr<bool> stopped_ = std::make_shared<bool>(false);
  boost::asio::steady_timer retry_;
};

// The Ready condition of a stored Pod's JSON: nullopt when it has none.
std::optional<bool> pod_ready_condition(std::string_view pod_json);
// `pod_json` with its Ready condition set (lastTransitionTime now when it changes); nullopt
// when it already says so, or is not a Pod object.
std::optional<std::string> with_ready_condition(std::string_view pod_json, bool ready);

}  // namespace svcproxy::cluster

// Pods from DNS: every Deployment annotated svcproxy.io/dns is watched; its pods are the
// addresses the name resolves to (rules in dns_watch.hpp). Runs on the control io_context
// only: lookups, timers and callbacks all happen there, and every method must be called
// there too.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "conf/model.hpp"
#include "discovery/dns_answer.hpp"
#include "discovery/dns_resolver.hpp"

namespace svcproxy::discovery {

enum class DnsLogLevel { Info, Warn };

class DnsDiscovery {
 public:
  // The pods of `deployment_key` changed (called on the control thread, never from inside
  // a DnsDiscovery method).
  using ChangeHandler =
      std::function<void(const std::string& deployment_key, const std::vector<conf::Pod>& pods)>;
  // discovery/ does not know the server's log; the owner passes one in.
  using LogHandler = std::function<void(DnsLogLevel level, const std::string& message)>;

  DnsDiscovery(boost::asio::io_context& control, std::unique_ptr<DnsResolver> resolver,
               ChangeHandler on_change, LogHandler log);
  ~DnsDiscovery();
  DnsDiscovery(const DnsDiscovery&) = delete;
  DnsDiscovery& operator=(const DnsDiscovery&) = delete;

  // Starts watching the snapshot's DNS deployments, stops watching the ones it no longer
  // has, and re-targets those whose name changed (their pods are dropped until the new name
  // resolves). Deployments that stay keep their addresses; their pods take the new
  // template at once (see pods()). New and re-targeted names are looked up right away.
  void update(const conf::Snapshot& snapshot);

  // Every DNS pod now, from the current addresses and the current Deployment specs.
  std::vector<conf::Pod> pods() const;
  std::vector<conf::Pod> pods(const std::string& deployment_key) const;

  // Lookups so far by DnsResult (index: static_cast<int>(result)), for metrics.
  using Counters = std::array<std::uint64_t, kDnsResultCount>;
  const Counters& counters() const { return counters_; }

 private:
  struct Watch;
  void start_lookup(const std::shared_ptr<Watch>& watch);
  void on_lookup(const std::shared_ptr<Watch>& watch, const DnsLookup& lookup);
  void schedule(const std::shared_ptr<Watch>& watch, conf::Duration delay);

  boost::asio::io_context& control_;
  std::unique_ptr<DnsResolver> resolver_;
  ChangeHandler on_change_;
  LogHandler log_;
  std::vector<std::string> servers_;
  bool servers_set_ = false;
  std::map<std::string, std::shared_ptr<Watch>> watches_;  // by deployment key
  Counters counters_{};
};

}  // namespace svcproxy::discovery

// A node's copy of the cluster state: it lists everything under the prefix, watches from the
// list's revision on, and calls back (debounced) whenever an object changed, so the node
// reloads through its usual path. Control thread only.
//
// What can go wrong with a watch is handled here: a broken stream resumes from the last
// revision seen (on the next member when there are several); a start revision compacted
// away means a fresh list, diffed against the copy, so deletes in the gap are noticed; and
// a full re-list every resyncPeriod is a safety net against etcd 3.4's known lost-event
// bugs. A heartbeat notices a member that stopped answering (a watch on it just goes
// quiet). While etcd is away the copy stays as it was: traffic never depends on etcd.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "cluster/cluster_stats.hpp"
#include "cluster/etcd_client.hpp"
#include "cluster/registry_layout.hpp"

namespace svcproxy::cluster {

struct ListedObjects {
  std::map<std::string, KeyValue> objects;  // by key; objects only, no allocation keys
  std::int64_t revision = 0;                // the revision every page was read at
};

// Every object under `layout.root()`, read in pages of `page_size` keys, each page after
// the last key of the one before and all at the first page's revision: one consistent view.
boost::asio::awaitable<Result<ListedObjects>> list_objects(KvStore& store,
                                                           const RegistryLayout& layout,
                                                           std::int64_t page_size);

class ClusterSync {
 public:
  using Objects = std::map<std::string, KeyValue>;  // by key; objects only, no allocations
  using LogFn = std::function<void(bool warning, const std::string& line)>;

  struct Timing {
    std::chrono::milliseconds resync_period{std::chrono::minutes(5)};
    std::chrono::milliseconds heartbeat{std::chrono::seconds(1)};
    std::chrono::milliseconds debounce{std::chrono::milliseconds(20)};
  };

  ClusterSync(boost::asio::io_context& control, EtcdClient& client, RegistryLayout layout,
              Timing timing, ClusterStats& stats, std::function<void()> on_change, LogFn log);
  ~ClusterSync();
  ClusterSync(const ClusterSync&) = delete;
  ClusterSync& operator=(const ClusterSync&) = delete;

  void start();
  void stop();

  const Objects& objects() const { return objects_; }
  bool synced() const { return synced_; }  // a list has completed
  const RegistryLayout& layout() const { return layout_; }

 private:
  boost::asio::awaitable<void> run();
  boost::asio::awaitable<void> heartbeat();
  boost::asio::awaitable<void> resync_timer();
  boost::asio::awaitable<bool> relist(RelistReason reason);
  bool apply_event(const WatchEvent& event);
  void set_connected(bool connected, const std::string& why);
  void changed();

  boost::asio::io_context& control_;
  EtcdClient& client_;
  RegistryLayout layout_;
  Timing timing_;
  ClusterStats& stats_;
  std::function<void()> on_change_;
  LogFn log_;
  Objects objects_;
  std::int64_t revision_ = 0;  // everything up to here is in objects_
  bool synced_ = false;
  bool resync_due_ = false;
  std::shared_ptr<bool> stopped_ = std::make_shared<bool>(false);
  boost::asio::steady_timer debounce_;
  boost::asio::steady_timer backoff_;
  boost::asio::steady_timer heartbeat_timer_;
  boost::asio::steady_timer resync_timer_;
  bool notify_pending_ = false;
  std::chrono::steady_clock::time_point last_notified_;  // when on_change_ last returned
};

}  // namespace svcproxy::cluster

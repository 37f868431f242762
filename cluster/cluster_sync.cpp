#include "cluster/cluster_sync.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>

namespace svcproxy::cluster {
namespace asio = boost::asio;
using asio::awaitable;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::int64_t kListPage = 10000;

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

awaitable<void> sleep(asio::steady_timer& timer, std::chrono::milliseconds duration) {
  timer.expires_after(duration);
  co_await timer.async_wait(use_tuple);
}

}  // namespace

const char* to_string(RelistReason reason) {
  switch (reason) {
    case RelistReason::Initial:
      return "initial";
    case RelistReason::Compacted:
      return "compacted";
    case RelistReason::Resync:
      return "resync";
    case RelistReason::Reconnect:
      return "reconnect";
  }
  return "initial";
}

ClusterSync::ClusterSync(asio::io_context& control, EtcdClient& client, RegistryLayout layout,
                         Timing timing, ClusterStats& stats, std::function<void()> on_change,
                         LogFn log)
    : control_(control),
      client_(client),
      layout_(std::move(layout)),
      timing_(timing),
      stats_(stats),
      on_change_(std::move(on_change)),
      log_(std::move(log)),
      debounce_(control),
      backoff_(control),
      heartbeat_timer_(control),
      resync_timer_(control) {
  stats_.disconnected_since_unix_seconds = unix_now();
}

ClusterSync::~ClusterSync() {
  stop();
}

void ClusterSync::start() {
  asio::co_spawn(control_, run(), asio::detached);
  asio::co_spawn(control_, heartbeat(), asio::detached);
  asio::co_spawn(control_, resync_timer(), asio::detached);
}

void ClusterSync::stop() {
  if (*stopped_) return;
  *stopped_ = true;
  debounce_.cancel();
  backoff_.cancel();
  heartbeat_timer_.cancel();
  resync_timer_.cancel();
  client_.cancel_watches();
}

void ClusterSync::set_connected(bool connected, const std::string& why) {
  if (connected == stats_.connected) return;  // the first reason is the one worth showing
  stats_.connected = connected;
  if (connected) {
    log_(false, "cluster: connected to etcd at " + client_.current_endpoint().url);
    stats_.last_error.clear();
  } else {
    stats_.disconnected_since_unix_seconds = unix_now();
    stats_.last_error = why;
    log_(true,
         "cluster: disconnected from etcd (" + why + "); serving the last state until it is back");
  }
}

// Leading and trailing: a change after a quiet spell is passed on at once (once the watch
// message it came in is handled, so its other events go with it); changes that follow
// within `debounce` of the last call wait for the window's end and go together. A lone
// `apply` reaches the reload without waiting out a window.
void ClusterSync::changed() {
  if (notify_pending_ || *stopped_) return;
  notify_pending_ = true;
  const auto since_last = std::chrono::steady_clock::now() - last_notified_;
  debounce_.expires_after(since_last >= timing_.debounce
                              ? std::chrono::steady_clock::duration::zero()
                              : timing_.debounce - since_last);
  debounce_.async_wait([this, stopped = stopped_](const boost::system::error_code& error) {
    if (error || *stopped) return;
    notify_pending_ = false;
    on_change_();
    last_notified_ = std::chrono::steady_clock::now();
  });
}

awaitable<Result<ListedObjects>> list_objects(KvStore& store, const RegistryLayout& layout,
                                              std::int64_t page_size) {
  const std::string end = prefix_end(layout.root());
  ListedObjects listed;
  std::string from = layout.root();
  for (;;) {
    auto page = co_await store.range(from, end, false, page_size, listed.revision);
    if (!page) co_return Result<ListedObjects>::failure(page.error);
    if (listed.revision == 0) listed.revision = page.value->revision;
    if (page.value->kvs.empty()) break;
    // The next page starts after this one's last key: taken before the keys move out.
    std::string next = page.value->kvs.back().key + '\0';
    for (auto& kv : page.value->kvs)
      if (layout.parse(kv.key)) {
        std::string key = kv.key;
        listed.objects.emplace(std::move(key), std::move(kv));
      }
    if (!page.value->more) break;
    from = std::move(next);
  }
  co_return Result<ListedObjects>{std::move(listed), {}};
}

awaitable<bool> ClusterSync::relist(RelistReason reason) {
  auto listed = co_await list_objects(client_, layout_, kListPage);
  if (*stopped_) co_return false;
  if (!listed) {
    if (!stats_.connected) log_(true, "cluster: listing the state failed: " + listed.error);
    set_connected(false, listed.error);
    co_return false;
  }
  Objects fresh = std::move(listed.value->objects);
  const std::int64_t revision = listed.value->revision;
  ++stats_.relists[static_cast<std::size_t>(reason)];
  stats_.last_sync_unix_seconds = unix_now();
  const bool differs = fresh != objects_ || !synced_;
  if (differs && synced_ && reason != RelistReason::Initial)
    log_(reason == RelistReason::Resync,
         std::string("cluster: a re-list (") + to_string(reason) + ") found changes the watch " +
             (reason == RelistReason::Resync ? "had not delivered" : "could not resume"));
  objects_ = std::move(fresh);
  revision_ = revision;
  synced_ = true;
  if (differs) changed();
  co_return true;
}

bool ClusterSync::apply_event(const WatchEvent& event) {
  revision_ = std::max(revision_, event.kv.mod_revision);
  if (!layout_.parse(event.kv.key)) return false;
  if (event.type == WatchEvent::Type::Delete) return objects_.erase(event.kv.key) > 0;
  auto [slot, inserted] = objects_.try_emplace(event.kv.key, event.kv);
  if (!inserted) {
    if (slot->second.value == event.kv.value) {
      slot->second = event.kv;
      return false;
    }
    slot->second = event.kv;
  }
  return true;
}

awaitable<void> ClusterSync::run() {
  auto stopped = stopped_;
  bool need_list = true;
  RelistReason reason = RelistReason::Initial;
  std::chrono::milliseconds backoff{100};
  while (!*stopped) {
    if (need_list || resync_due_) {
      if (resync_due_ && !need_list) reason = RelistReason::Resync;
      if (!co_await relist(reason)) {
        if (*stopped) break;
        co_await sleep(backoff_, backoff);
        backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
        // A list that compaction made necessary stays counted as such when it needs
        // another try (etcd restarting as it compacts); other failed lists were a lost
        // connection.
        if (synced_ && reason != RelistReason::Compacted) reason = RelistReason::Reconnect;
        continue;
      }
      need_list = false;
      resync_due_ = false;
    }
    bool compacted = false;
    const std::string root = layout_.root();
    const std::string why =
        co_await client_.watch(root, prefix_end(root), revision_ + 1, [&](WatchMessage& message) {
          if (*stopped) return false;
          if (message.canceled) {
            compacted = message.compact_revision > 0;
            if (!compacted) log_(true, "cluster: watch cancelled: " + message.cancel_reason);
            return false;
          }
          if (message.created) {
            set_connected(true, "");
            backoff = std::chrono::milliseconds(100);
          }
          bool any = false;
          for (const auto& event : message.events) {
            ++stats_.watch_events;
            any = apply_event(event) || any;
          }
          revision_ = std::max(revision_, message.revision);
          if (!message.events.empty()) stats_.last_sync_unix_seconds = unix_now();
          if (any) changed();
          return !resync_due_;
        });
    if (*stopped) break;
    if (compacted) {
      log_(false, "cluster: watch start revision " + std::to_string(revision_ + 1) +
                      " was compacted; listing again");
      need_list = true;
      reason = RelistReason::Compacted;
      continue;
    }
    if (resync_due_) continue;
    if (!why.empty()) {
      set_connected(false, why);
      co_await sleep(backoff_, backoff);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
    }
  }
}

// A stopped or partitioned member keeps a watch open and silent; only a request notices.
awaitable<void> ClusterSync::heartbeat() {
  auto stopped = stopped_;
  while (!*stopped) {
    co_await sleep(heartbeat_timer_, timing_.heartbeat);
    if (*stopped) break;
    auto answer = co_await client_.range(layout_.root(), "", true, 1);
    if (*stopped) break;
    if (!answer && stats_.connected) {
      set_connected(false, answer.error);
      client_.cancel_watches();  // reconnect, on the next member if there is one
    }
  }
}

awaitable<void> ClusterSync::resync_timer() {
  auto stopped = stopped_;
  while (!*stopped) {
    co_await sleep(resync_timer_, timing_.resync_period);
    if (*stopped) break;
    resync_due_ = true;
    client_.cancel_watches();
  }
}

}  // namespace svcproxy::cluster

#include "cluster/pod_status_writer.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <ctime>

#include "cluster/kube_time.hpp"

namespace svcproxy::cluster {
namespace asio = boost::asio;
namespace json = boost::json;
using asio::awaitable;

namespace {

json::object* ready_condition(json::object& pod, bool create) {
  json::value* status = pod.if_contains("status");
  if (!status || !status->is_object()) {
    if (!create) return nullptr;
    pod["status"] = json::object();
    status = pod.if_contains("status");
  }
  json::value* conditions = status->as_object().if_contains("conditions");
  if (!conditions || !conditions->is_array()) {
    if (!create) return nullptr;
    status->as_object()["conditions"] = json::array();
    conditions = status->as_object().if_contains("conditions");
  }
  for (auto& item : conditions->as_array())
    if (item.is_object()) {
      const json::value* type = item.as_object().if_contains("type");
      if (type && type->is_string() && type->as_string() == "Ready") return &item.as_object();
    }
  if (!create) return nullptr;
  conditions->as_array().push_back(json::object{{"type", "Ready"}});
  return &conditions->as_array().back().as_object();
}

}  // namespace

std::optional<bool> pod_ready_condition(std::string_view pod_json) {
  boost::system::error_code error;
  json::value pod = json::parse(pod_json, error);
  if (error || !pod.is_object()) return std::nullopt;
  const json::object* condition = ready_condition(pod.as_object(), false);
  if (!condition) return std::nullopt;
  const json::value* status = condition->if_contains("status");
  if (!status || !status->is_string()) return std::nullopt;
  return status->as_string() == "True";
}

std::optional<std::string> with_ready_condition(std::string_view pod_json, bool ready) {
  boost::system::error_code error;
  json::value pod = json::parse(pod_json, error);
  if (error || !pod.is_object()) return std::nullopt;
  json::object* condition = ready_condition(pod.as_object(), true);
  const char* wanted = ready ? "True" : "False";
  const json::value* status = condition->if_contains("status");
  if (status && status->is_string() && status->as_string() == wanted) return std::nullopt;
  (*condition)["status"] = wanted;
  (*condition)["lastTransitionTime"] = rfc3339_now();
  (*condition)["reason"] = ready ? "ReadinessProbePassed" : "ReadinessProbeFailed";
  return json::serialize(pod);
}

PodStatusWriter::PodStatusWriter(asio::io_context& control, KvStore& store, RegistryLayout layout)
    : control_(control), store_(store), layout_(std::move(layout)), retry_(control) {}

PodStatusWriter::~PodStatusWriter() {
  *stopped_ = true;
  retry_.cancel();
}

void PodStatusWriter::report(const std::string& namespace_name, const std::string& name,
                             bool ready) {
  pending_[layout_.object_key(StoredKind::Pod, namespace_name, name)] = ready;
  if (flushing_) return;
  flushing_ = true;
  asio::co_spawn(control_, flush(), asio::detached);
}

awaitable<void> PodStatusWriter::flush() {
  auto stopped = stopped_;
  while (!*stopped && !pending_.empty()) {
    const std::string key = pending_.begin()->first;
    const bool ready = pending_.begin()->second;
    bool retry_later = false;
    auto read = co_await store_.range(key, "");
    if (*stopped) co_return;
    if (!read) {
      retry_later = true;
    } else if (read.value->kvs.empty()) {
      pending_.erase(key);  // deleted meanwhile: nothing to say about it
      continue;
    } else {
      const KeyValue& current = read.value->kvs.front();
      auto updated = with_ready_condition(current.value, ready);
      if (updated) {
        Txn txn;
        txn.compare.push_back(Compare::modified_at(key, current.mod_revision));
        txn.success.push_back(Operation::put(key, *updated));
        auto written = co_await store_.txn(std::move(txn));
        if (*stopped) co_return;
        if (!written)
          retry_later = true;
        else if (!written.value->succeeded)
          continue;  // raced with an apply: read again
      }
      // A newer verdict may have arrived while this one was written.
      auto now = pending_.find(key);
      if (!retry_later && now != pending_.end() && now->second == ready) pending_.erase(now);
    }
    if (retry_later) {
      retry_.expires_after(std::chrono::seconds(1));
      co_await retry_.async_wait(asio::as_tuple(asio::use_awaitable));
    }
  }
  flushing_ = false;
}

}  // namespace svcproxy::cluster

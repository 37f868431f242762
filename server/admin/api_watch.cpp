#include "server/admin/api_watch.hpp"

#include <boost/json/serialize.hpp>

#include "server/admin/kube_json.hpp"

namespace svcproxy::server {
namespace json = boost::json;

namespace {

std::string key_of(const json::object& object) {
  return string_at(object, "metadata", "namespace") + "/" + string_at(object, "metadata", "name");
}

// `value` without the counters that move with traffic.
json::value without_counters(const json::value& value) {
  if (value.is_array()) {
    json::array out;
    for (const auto& item : value.as_array())
      out.push_back(without_counters(item));
    return out;
  }
  if (!value.is_object()) return value;
  json::object out;
  for (const auto& [key, item] : value.as_object())
    if (key != "activeConnections") out[key] = without_counters(item);
  return out;
}

std::string change_text(const json::object& object) {
  return json::serialize(without_counters(object));
}

}  // namespace

std::string list_version(const std::vector<json::object>& items) {
  std::uint64_t hash = 14695981039346656037ULL;  // FNV-1a
  for (const auto& item : items)
    for (const char c : change_text(item) + "\n") {
      hash ^= static_cast<unsigned char>(c);
      hash *= 1099511628211ULL;
    }
  return std::to_string(hash >> 1);  // an int64's range: some clients parse it as one
}

ApiWatch::ApiWatch(const std::vector<json::object>& items) {
  for (const auto& item : items)
    seen_[key_of(item)] = {change_text(item), item};
}

std::vector<ApiWatch::Event> ApiWatch::update(std::vector<json::object> items) {
  std::map<std::string, Seen> now;
  for (auto& item : items) {
    std::string key = key_of(item);  // before the move below: `a[k] = b` evaluates b first
    std::string text = change_text(item);
    now[std::move(key)] = {std::move(text), std::move(item)};
  }
  std::vector<Event> events;
  for (const auto& [key, seen] : seen_)
    if (!now.contains(key)) events.push_back({"DELETED", seen.object});
  for (const auto& [key, current] : now) {
    const auto before = seen_.find(key);
    if (before == seen_.end())
      events.push_back({"ADDED", current.object});
    else if (before->second.text != current.text)
      events.push_back({"MODIFIED", current.object});
  }
  seen_ = std::move(now);
  return events;
}

}  // namespace svcproxy::server

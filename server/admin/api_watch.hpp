// What a watch of the API sends: the difference between what a list holds now and what it
// held at the last look, as Kubernetes watch events (ADDED, MODIFIED, DELETED), and the
// resourceVersion that names a list's contents. svcproxy keeps no history of its objects:
// a list's version is a digest of what it holds, so a watch from that version starts
// from that very state when nothing changed since (kubectl lists, then watches), and is
// answered 410 Gone otherwise, as a too-old version is. Counters that move with traffic
// (an endpoint's activeConnections) are not a change. Pure.
#pragma once

#include <boost/json/object.hpp>
#include <map>
#include <string>
#include <vector>

namespace svcproxy::server {

// The digest of a list's items, as its metadata.resourceVersion (decimal).
std::string list_version(const std::vector<boost::json::object>& items);

class ApiWatch {
 public:
  struct Event {
    const char* type;  // "ADDED", "MODIFIED", "DELETED"
    boost::json::object object;
  };

  // Starts from `items`, as a watch from their version does (no events for them).
  explicit ApiWatch(const std::vector<boost::json::object>& items);
  // The events that turn the last items into `items`, in key order; remembers `items`.
  std::vector<Event> update(std::vector<boost::json::object> items);

 private:
  struct Seen {
    std::string text;  // what counts as a change
    boost::json::object object;
  };
  std::map<std::string, Seen> seen_;  // by "namespace/name"
};

}  // namespace svcproxy::server

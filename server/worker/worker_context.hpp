// What a session may use of the worker it runs on: the routing table in force, the
// worker's index (its slot in every service's counters), whether it drains, the worker's
// shared resources and its deadline watch. Sessions get this, not the Worker, so the
// worker's own machinery (listeners, accept loops, publishing, draining) is out of their
// reach and a session can be tested without one. Worker-local: its thread only.
#pragma once

#include <cstddef>

#include "server/worker/deadline_watch.hpp"
#include "server/worker/routing_table.hpp"
#include "server/worker/worker_resources.hpp"

namespace svcproxy::server {

class WorkerContext {
 public:
  explicit WorkerContext(std::size_t index) : index_(index) {}
  WorkerContext(const WorkerContext&) = delete;
  WorkerContext& operator=(const WorkerContext&) = delete;

  // Replaced whenever the control thread publishes a reload; a session compares it with
  // the one it holds before each request.
  const RoutingTablePtr& routes() const { return routes_; }
  std::size_t index() const { return index_; }
  // Once set, a busy connection closes after its response.
  bool draining() const { return draining_; }
  WorkerResources& resources() { return resources_; }
  DeadlineWatch& deadlines() { return deadlines_; }

  // The worker's (or a test's), on its thread: a reload's table, the start of a drain.
  void publish(RoutingTablePtr routes) { routes_ = std::move(routes); }
  void start_draining() { draining_ = true; }

 private:
  const std::size_t index_;
  RoutingTablePtr routes_;
  bool draining_ = false;
  WorkerResources resources_;
  DeadlineWatch deadlines_;
};

}  // namespace svcproxy::server

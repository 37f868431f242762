// A worker: one thread running one io_context, with its own SO_REUSEPORT acceptor per
// listen address (shared-nothing, like nginx and Envoy workers). Everything in it is
// touched only on its own thread; the control thread talks to it by posting.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <map>
#include <memory>
#include <thread>

#include "server/control/listen_plan.hpp"
#include "server/worker/routing_table.hpp"
#include "server/worker/worker_resources.hpp"

namespace svcproxy::server {

class Worker {
 public:
  // `open_connections` is shared by all workers to enforce limits.maxConnections.
  Worker(int index, std::atomic<int>& open_connections);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void start();
  void join();

  // Called from the control thread; each takes effect on the worker's thread.
  void publish(RoutingTablePtr routes);
  void open_listener(ListenerSpec spec, int listening_fd);  // takes the descriptor
  void update_listener(ListenerSpec spec);                  // same address, new route
  void close_listener(ListenAddress address);
  // Stops accepting; `on_drained` runs (on this worker's thread) once no session is left.
  void drain(std::function<void()> on_drained);
  void stop();  // abandons whatever is still running

  // For sessions, on the worker's thread.
  boost::asio::io_context& io() { return io_; }
  const RoutingTablePtr& routes() const { return routes_; }
  bool draining() const { return draining_; }
  std::size_t index() const { return static_cast<std::size_t>(index_); }
  // The L7 upstream pool, body buffers and HTTP session list of this worker.
  WorkerResources& resources() { return resources_; }
  // A session joined resources().http_sessions: the deadline watch runs while any is there.
  void wake_deadline_watch();

 private:
  struct Listener;
  boost::asio::awaitable<void> accept_loop(std::shared_ptr<Listener> listener);
  void start_session(boost::asio::ip::tcp::socket socket,
                     const boost::asio::ip::tcp::endpoint& peer, const ListenerSpec& spec);
  void session_ended();
  // Every second: closes pooled upstream connections that timed out or that pods closed.
  boost::asio::awaitable<void> sweep_upstream_pool();
  // Every tick while HTTP sessions are open: lets each act on a deadline that has passed.
  boost::asio::awaitable<void> watch_http_deadlines();

  const int index_;
  std::atomic<int>& open_connections_;
  RoutingTablePtr routes_;
  std::map<ListenAddress, std::shared_ptr<Listener>> listeners_;
  std::size_t sessions_ = 0;
  bool draining_ = false;
  std::function<void()> on_drained_;
  // The deadline watch's timer (in its coroutine's frame), and whether it waits for the
  // first session rather than for the next tick.
  boost::asio::steady_timer* deadline_timer_ = nullptr;
  bool deadline_watch_parked_ = false;
  std::thread thread_;
  // Before io_: sessions (destroyed with io_) unlink themselves from its session list.
  WorkerResources resources_;
  // Last member: destroyed first, together with the session frames that still refer to
  // the members above. Every socket of a worker is touched on its thread alone (other
  // threads post), so the reactor's per-descriptor mutex is switched off: user
  // instructions per request -11% on L4 keep-alive, -3% on an L4 new connection, -1% on
  // L7 (callgrind). Posting from other threads stays locked and safe.
  boost::asio::io_context io_{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
};

}  // namespace svcproxy::server

// A worker: one thread running one io_context, with its own SO_REUSEPORT acceptor per
// listen address (shared-nothing, like nginx and Envoy workers). Everything in it is
// touched only on its own thread; the control thread talks to it by posting.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <map>
#include <memory>
#include <thread>

#include "server/control/listen_plan.hpp"
#include "server/udp/udp_relay.hpp"
#include "server/worker/routing_table.hpp"
#include "server/worker/worker_context.hpp"

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

  boost::asio::io_context& io() { return io_; }

 private:
  struct Listener;
  boost::asio::awaitable<void> accept_loop(std::shared_ptr<Listener> listener);
  void open_udp_listener(const ListenerSpec& spec, int socket_fd);
  // A UDP listener's relay settings from the routing table in force.
  UdpRelaySettings udp_settings() const;
  // The Backend of `backend_key` in the routing table in force when it is called.
  UdpRelay::BackendLookup backend_lookup(std::string backend_key) const;
  void start_session(boost::asio::ip::tcp::socket socket,
                     const boost::asio::ip::tcp::endpoint& peer, const ListenerSpec& spec);
  void session_ended();
  // Every second: closes pooled upstream connections that timed out or that pods closed.
  boost::asio::awaitable<void> sweep_upstream_pool();

  const int index_;
  std::atomic<int>& open_connections_;
  std::map<ListenAddress, std::shared_ptr<Listener>> listeners_;
  std::map<ListenAddress, std::shared_ptr<UdpRelay>> udp_relays_;
  std::size_t sessions_ = 0;
  std::function<void()> on_drained_;
  std::thread thread_;
  // What sessions see of this worker. Before io_: sessions (destroyed with io_) unlink
  // themselves from its deadline watch and give buffers back to its resources.
  WorkerContext context_;
  // Last member: destroyed first, together with the session frames that still refer to
  // the members above. Every socket of a worker is touched on its thread alone (other
  // threads post), so the reactor's per-descriptor mutex is switched off: user
  // instructions per request -11% on L4 keep-alive, -3% on an L4 new connection, -1% on
  // L7 (callgrind). Posting from other threads stays locked and safe.
  boost::asio::io_context io_{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
};

}  // namespace svcproxy::server

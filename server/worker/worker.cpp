#include "server/worker/worker.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "server/http/http_session.hpp"
#include "server/l4/l4_session.hpp"
#include "server/log/access_log.hpp"
#include "server/log/log.hpp"
#include "server/net/native_socket.hpp"
#include "server/tls/tls_session.hpp"
#include "server/upstream/socket_faults.hpp"
#include "server/worker/coarse_clock.hpp"

namespace svcproxy::server {
namespace asio = boost::asio;
using asio::ip::tcp;

struct Worker::Listener {
  ListenerSpec spec;
  tcp::acceptor acceptor;
};

Worker::Worker(int index, std::atomic<int>& open_connections)
    : index_(index),
      open_connections_(open_connections),
      context_(static_cast<std::size_t>(index)) {}

Worker::~Worker() {
  stop();
  join();
  // Acceptors must go while io_ (declared last, destroyed first) still exists.
  listeners_.clear();
  for (auto& [address, relay] : udp_relays_)
    relay->close();
  udp_relays_.clear();
  // Pooled sockets belong to io_, which is destroyed before context_.
  WorkerResources& resources = context_.resources();
  resources.upstream_pool.clear();
  if (!resources.access_log_batch.empty()) write_access_log_lines(resources.access_log_batch);
}

void Worker::start() {
  asio::co_spawn(io_, sweep_upstream_pool(), [index = index_](std::exception_ptr e) {
    if (e) log(LogLevel::Error, "worker ", index, ": upstream pool sweeper failed");
  });
  asio::co_spawn(io_, context_.deadlines().run(context_.routes()),
                 [index = index_](std::exception_ptr e) {
                   if (e) log(LogLevel::Error, "worker ", index, ": deadline watch failed");
                 });
  thread_ = std::thread([this] {
    auto work = asio::make_work_guard(io_);  // idle workers keep running until stop()
    io_.run();
  });
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::stop() {
  io_.stop();
}

void Worker::publish(RoutingTablePtr routes) {
  asio::post(io_, [this, routes = std::move(routes)]() mutable {
    context_.publish(std::move(routes));
    for (auto& [address, relay] : udp_relays_)
      relay->set_settings(udp_settings());
  });
}

UdpRelaySettings Worker::udp_settings() const {
  const RoutingTablePtr& routes = context_.routes();
  if (!routes) return {};
  return {routes->settings.timeouts.udp_idle, routes->settings.limits.max_udp_sessions};
}

UdpRelay::BackendLookup Worker::backend_lookup(std::string backend_key) const {
  return [this, key = std::move(backend_key)]() -> lb::BackendPtr {
    const RoutingTablePtr& routes = context_.routes();
    return routes ? routes->find(key) : nullptr;
  };
}

void Worker::open_udp_listener(const ListenerSpec& spec, int socket_fd) {
  const bool v6 = spec.address.ip.find(':') != std::string::npos;
  asio::ip::udp::socket socket(io_, v6 ? asio::ip::udp::v6() : asio::ip::udp::v4(), socket_fd);
  // The route in force for this listener, looked up per new session: a reload that
  // replaces the Backend (or the key) reaches sessions opened after it.
  auto relay = std::make_shared<UdpRelay>(io_, std::move(socket), backend_lookup(spec.backend_key),
                                          udp_settings());
  relay->start();
  udp_relays_[spec.address] = std::move(relay);
}

void Worker::open_listener(ListenerSpec spec, int listening_fd) {
  asio::post(io_, [this, spec = std::move(spec), listening_fd] {
    if (spec.address.udp) {
      open_udp_listener(spec, listening_fd);
      return;
    }
    const bool v6 = spec.address.ip.find(':') != std::string::npos;
    auto listener = std::make_shared<Listener>(
        Listener{spec, tcp::acceptor(io_, v6 ? tcp::v6() : tcp::v4(), listening_fd)});
    listeners_[spec.address] = listener;
    asio::co_spawn(io_, accept_loop(listener), [address = spec.address](std::exception_ptr e) {
      if (e) log(LogLevel::Error, "accept loop on ", address.to_string(), " failed");
    });
  });
}

void Worker::update_listener(ListenerSpec spec) {
  asio::post(io_, [this, spec = std::move(spec)] {
    if (const auto relay = udp_relays_.find(spec.address); relay != udp_relays_.end()) {
      relay->second->set_backend(backend_lookup(spec.backend_key));
      return;
    }
    const auto found = listeners_.find(spec.address);
    if (found != listeners_.end()) found->second->spec = spec;
  });
}

void Worker::close_listener(ListenAddress address) {
  asio::post(io_, [this, address] {
    if (const auto relay = udp_relays_.find(address); relay != udp_relays_.end()) {
      relay->second->close();
      udp_relays_.erase(relay);
      return;
    }
    const auto found = listeners_.find(address);
    if (found == listeners_.end()) return;
    boost::system::error_code ignored;
    found->second->acceptor.close(ignored);
    listeners_.erase(found);
  });
}

void Worker::drain(std::function<void()> on_drained) {
  asio::post(io_, [this, on_drained = std::move(on_drained)] {
    context_.start_draining();
    on_drained_ = on_drained;
    for (auto& [address, listener] : listeners_) {
      boost::system::error_code ignored;
      listener->acceptor.close(ignored);
    }
    listeners_.clear();
    // UDP has no connection to finish: its sessions end with the drain's start.
    for (auto& [address, relay] : udp_relays_)
      relay->close();
    udp_relays_.clear();
    // Keep-alive connections between requests close now; busy ones after their response.
    context_.deadlines().close_idle_sessions();
    context_.resources().upstream_pool.clear();
    if (sessions_ == 0) on_drained_();
  });
}

asio::awaitable<void> Worker::accept_loop(std::shared_ptr<Listener> listener) {
  // accept4(2) straight into non-blocking sockets (see native_socket.hpp), several per
  // readiness event; the peer's address comes with the accept, no getpeername(2).
  constexpr int kAcceptsPerTurn = 64;  // then let sessions run before accepting more
  asio::steady_timer backoff(io_);
  LogThrottle accept_errors(std::chrono::seconds(1));
  const auto protocol = listener->acceptor.local_endpoint().protocol();
  bool may_be_ready = true;  // a new socket's pending connections raise no fresh edge
  for (;;) {
    if (!may_be_ready) {
      auto [error] = co_await listener->acceptor.async_wait(tcp::acceptor::wait_read,
                                                            asio::as_tuple(asio::use_awaitable));
      if (error == asio::error::operation_aborted || !listener->acceptor.is_open()) co_return;
    }
    boost::system::error_code error;
    int accepted = 0;
    for (; accepted < kAcceptsPerTurn; ++accepted) {
      tcp::endpoint peer;
      const int fd = accept_nonblocking(listener->acceptor.native_handle(), peer, error);
      if (fd < 0) break;
      tcp::socket socket = adopt_nonblocking(io_.get_executor(), protocol, fd, error);
      if (!error) start_session(std::move(socket), peer, listener->spec);
    }
    may_be_ready = accepted == kAcceptsPerTurn;
    if (may_be_ready) {
      co_await asio::post(io_, asio::use_awaitable);
      if (!listener->acceptor.is_open()) co_return;
    } else if (error && error != asio::error::would_block) {
      // EMFILE, ENFILE, ENOBUFS...: pause instead of spinning; connections wait in the
      // backlog meanwhile.
      const SocketFault fault = classify_socket_error(error);
      count_accept_error(fault);
      if (is_local(fault)) count_local_resource_error(fault);
      if (const auto suppressed = accept_errors.admit(std::chrono::steady_clock::now())) {
        log(LogLevel::Error, "accept on ", listener->spec.address.to_string(), ": ",
            error.message(), "; retrying every 100ms (", *suppressed,
            " more failures since the last line)");
      }
      backoff.expires_after(std::chrono::milliseconds(100));
      co_await backoff.async_wait(asio::as_tuple(asio::use_awaitable));
      if (!listener->acceptor.is_open()) co_return;
      may_be_ready = true;
    }
  }
}

void Worker::start_session(tcp::socket socket, const tcp::endpoint& peer,
                           const ListenerSpec& spec) {
  const RoutingTablePtr& routes = context_.routes();
  lb::BackendPtr backend = routes ? routes->find(spec.backend_key) : nullptr;
  // Looked up once per connection; the session counts into its own worker's slot.
  StatsHandle stats =
      routes ? routes->stats_for(spec.backend_key, context_.index()) : StatsHandle{};
  if (!backend || !stats) {
    log(LogLevel::Error, "no route for ", spec.backend_key, " on ", spec.address.to_string());
    return;
  }
  const int limit = routes->settings.limits.max_connections;
  if (open_connections_.fetch_add(1, std::memory_order_relaxed) >= limit) {
    open_connections_.fetch_sub(1, std::memory_order_relaxed);
    log(LogLevel::Warn, "limits.maxConnections (", limit, ") reached; closing a connection to ",
        spec.address.to_string());
    return;
  }
  ++sessions_;
  record_connection_opened(*stats);
  auto session =
      spec.tls ? serve_tls_connection(
                     std::move(socket), peer, spec.tls,
                     {spec.protocol, spec.backend_key, std::move(backend), routes, stats}, context_,
                     routes->settings.timeouts.tls_handshake)
      : spec.protocol == conf::AppProtocol::Http
          ? serve_http_connection(std::move(socket), peer, spec.backend_key, context_)
          : serve_l4_connection(std::move(socket), peer, std::move(backend), routes, stats,
                                {context_.resources().relay_buffers, context_.resources().pipes});
  asio::co_spawn(io_, std::move(session),
                 [this, stats, key = spec.backend_key](std::exception_ptr e) {
                   record_connection_closed(*stats);
                   if (e) {
                     try {
                       std::rethrow_exception(e);
                     } catch (const std::exception& failure) {
                       log(LogLevel::Error, "session on ", key, " failed: ", failure.what());
                     }
                   }
                   session_ended();
                 });
}

asio::awaitable<void> Worker::sweep_upstream_pool() {
  asio::steady_timer timer(io_);
  for (;;) {
    timer.expires_after(std::chrono::seconds(1));
    auto [error] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (error) co_return;
    if (context_.routes()) {
      const auto& timeouts = context_.routes()->settings.timeouts;
      context_.resources().upstream_pool.set_settings(
          {.idle_timeout = std::min<conf::Duration>(timeouts.idle, std::chrono::seconds(60))});
    }
    context_.resources().upstream_pool.sweep(std::chrono::steady_clock::now());
  }
}

void Worker::session_ended() {
  open_connections_.fetch_sub(1, std::memory_order_relaxed);
  --sessions_;
  if (context_.draining() && sessions_ == 0 && on_drained_) on_drained_();
}

}  // namespace svcproxy::server

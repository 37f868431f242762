// The admin HTTP listener (ProxyConfig adminAddress): /metrics, health and the status
// API. Runs on the control io_context, never on a worker, so it reads the control
// thread's snapshot and backends without locks, and a scrape cannot slow traffic. It
// never proxies.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <optional>
#include <string>

#include "server/admin/admin_routes.hpp"

namespace svcproxy::server {

// What a listener serves: everything (adminAddress, apiAddress), or only kube-proxy's
// health endpoints (healthzAddress, kube_proxy_health.hpp).
enum class AdminRole { Admin, KubeProxyHealth };

class AdminServer {
 public:
  AdminServer(boost::asio::io_context& control, AdminSources sources,
              AdminRole role = AdminRole::Admin)
      : control_(control), sources_(sources), role_(role) {}

  // Binds `address` ("ip:port", "[v6]:port") and starts accepting. False with `error`
  // set when the address is malformed or cannot be bound.
  bool start(const std::string& address, std::string& error);
  // Closes the listener; connections in progress finish their current request, and open
  // watches end within a second.
  void stop();

  void set_readiness(Readiness readiness) { readiness_ = readiness; }
  std::string address() const { return bound_; }

 private:
  boost::asio::awaitable<void> accept_loop();
  boost::asio::awaitable<void> session(boost::asio::ip::tcp::socket socket);
  void spawn_session(boost::asio::ip::tcp::socket socket);
  // A `?watch=true` request: events streamed as a chunked response until the client
  // leaves, its timeoutSeconds (at most 30 minutes) pass or the server stops.
  boost::asio::awaitable<void> watch(boost::beast::tcp_stream& stream, const AdminRequest& request);
  // A POST, PUT, PATCH or DELETE of the API in cluster mode.
  boost::asio::awaitable<AdminResponse> write(const AdminRequest& request);
  // A write needs the bearer token when one is configured, and always off loopback.
  std::optional<AdminResponse> refuse_unauthorized(const AdminRequest& request) const;

  boost::asio::io_context& control_;
  AdminSources sources_;
  AdminRole role_;
  Readiness readiness_ = Readiness::Starting;
  boost::asio::ip::tcp::acceptor acceptor_{control_};
  std::string bound_;
  bool loopback_ = true;  // bound to a loopback address
  int sessions_ = 0;
  bool stopped_ = false;
};

}  // namespace svcproxy::server

#include "server/admin/service_health_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "discovery/service_routes.hpp"
#include "server/log/log.hpp"
#include "server/net/open_acceptor.hpp"

namespace svcproxy::server {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

namespace {

// A load balancer's checker keeps its connection or opens one per check; either way a
// connection is closed after this many, as the admin listener does.
constexpr int kMaxRequestsPerConnection = 100;

}  // namespace

std::map<ListenAddress, ServiceHealthTarget> plan_service_health(const conf::Snapshot& snapshot) {
  std::map<ListenAddress, ServiceHealthTarget> plan;
  for (const auto& service : snapshot.services) {
    if (service.health_check_node_port == 0 || !conf::needs_health_check_node_port(service))
      continue;
    if (discovery::external_route(service, snapshot.proxy, true) !=
        discovery::ExternalRoute::NodeLocal)
      continue;  // an edge: its LoadBalancer traffic goes to nodes, not to pods here
    ServiceHealthTarget target{service.namespace_name, service.name, {}};
    for (const auto& port : service.ports)
      target.backend_keys.push_back(
          discovery::route_key(service, port, discovery::ExternalRoute::NodeLocal));
    for (const auto& ip : snapshot.proxy.node_port_addresses)
      plan.emplace(ListenAddress{ip, service.health_check_node_port}, target);
  }
  return plan;
}

struct ServiceHealthServer::Shared {
  const conf::Snapshot& snapshot;
  const discovery::BackendMapPtr& backends;
  Readiness readiness = Readiness::Starting;
};

// Shared by its accept loop and its connections, so a listener a reload drops lives until
// the last of them has finished.
class ServiceHealthServer::Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(asio::io_context& control, std::shared_ptr<Shared> shared, ServiceHealthTarget target)
      : control_(control), shared_(std::move(shared)), target_(std::move(target)) {}

  bool start(const ListenAddress& address, std::string& error) {
    boost::system::error_code failure;
    const auto ip = asio::ip::make_address(address.ip, failure);
    const tcp::endpoint endpoint{ip, static_cast<unsigned short>(address.port)};
    open_acceptor(acceptor_, endpoint, failure);
    if (failure) {
      error = failure.message();
      return false;
    }
    asio::co_spawn(control_, accept_loop(shared_from_this()), asio::detached);
    return true;
  }

  void stop() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  }

  void set_target(ServiceHealthTarget target) { target_ = std::move(target); }

 private:
  static asio::awaitable<void> accept_loop(std::shared_ptr<Listener> self) {
    asio::steady_timer backoff(self->control_);
    while (self->acceptor_.is_open()) {
      auto [error, socket] =
          co_await self->acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
      if (error == asio::error::operation_aborted || !self->acceptor_.is_open()) co_return;
      if (error) {  // EMFILE and the like: let them pass rather than spin
        backoff.expires_after(std::chrono::milliseconds(100));
        co_await backoff.async_wait(asio::as_tuple(asio::use_awaitable));
        continue;
      }
      if (self->sessions_ >= self->shared_->snapshot.proxy.admin.max_connections) continue;
      ++self->sessions_;
      asio::co_spawn(self->control_, session(self, std::move(socket)), asio::detached);
    }
  }

  static asio::awaitable<void> session(std::shared_ptr<Listener> self, tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    const conf::AdminLimits limits = self->shared_->snapshot.proxy.admin;
    beast::flat_buffer buffer;
    for (int served = 0; served < kMaxRequestsPerConnection; ++served) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
      parser.body_limit(static_cast<std::uint64_t>(limits.max_header_bytes));
      stream.expires_after(limits.request_timeout);
      auto [read_error, n] =
          co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
      if (read_error) break;  // a checker that sent garbage or left: nothing to tell it
      const int local =
          local_ready_endpoints(self->target_, *self->shared_->backends, lb::Clock::now());
      AdminResponse response = service_health_response(
          parser.get(), self->target_, local, self->shared_->readiness == Readiness::Ready);
      stream.expires_after(limits.write_timeout);
      auto [write_error, written] =
          co_await http::async_write(stream, response, asio::as_tuple(asio::use_awaitable));
      if (write_error || !response.keep_alive()) break;
    }
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    --self->sessions_;
  }

  asio::io_context& control_;
  std::shared_ptr<Shared> shared_;
  ServiceHealthTarget target_;
  tcp::acceptor acceptor_{control_};
  int sessions_ = 0;
};

ServiceHealthServer::ServiceHealthServer(asio::io_context& control, const conf::Snapshot& snapshot,
                                         const discovery::BackendMapPtr& backends)
    : control_(control), shared_(std::make_shared<Shared>(Shared{snapshot, backends})) {}

ServiceHealthServer::~ServiceHealthServer() {
  stop();
}

void ServiceHealthServer::sync(const std::map<ListenAddress, ServiceHealthTarget>& wanted) {
  for (auto it = listeners_.begin(); it != listeners_.end();) {
    if (wanted.contains(it->first)) {
      ++it;
      continue;
    }
    it->second->stop();
    log(LogLevel::Info, "healthCheckNodePort: stopped listening on ", it->first.to_string());
    it = listeners_.erase(it);
  }
  for (const auto& [address, target] : wanted) {
    if (const auto kept = listeners_.find(address); kept != listeners_.end()) {
      kept->second->set_target(target);
      continue;
    }
    auto listener = std::make_shared<Listener>(control_, shared_, target);
    std::string error;
    if (!listener->start(address, error)) {
      log(LogLevel::Warn, "healthCheckNodePort of ", target.namespace_name, "/", target.name,
          " on ", address.to_string(), ": ", error, "; retrying at the next reload");
      continue;
    }
    log(LogLevel::Info, "healthCheckNodePort listening on ", address.to_string(), " for ",
        target.namespace_name, "/", target.name);
    listeners_.emplace(address, std::move(listener));
  }
}

void ServiceHealthServer::set_readiness(Readiness readiness) {
  shared_->readiness = readiness;
}

void ServiceHealthServer::stop() {
  for (auto& [address, listener] : listeners_)
    listener->stop();
  listeners_.clear();
}

}  // namespace svcproxy::server

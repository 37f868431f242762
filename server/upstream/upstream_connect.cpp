#include "server/upstream/upstream_connect.hpp"

#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>

#include "server/log/log.hpp"
#include "server/net/native_socket.hpp"

namespace svcproxy::server {
namespace asio = boost::asio;
using asio::ip::tcp;

tcp::endpoint to_tcp_endpoint(const lb::EndpointAddress& address,
                              boost::system::error_code& error) {
  const auto ip = asio::ip::make_address(address.ip, error);
  if (error) return {};
  return {ip, static_cast<unsigned short>(address.port)};
}

namespace {

// Waits until `socket` is writable, which ends a non-blocking connect, or `timeout` passed.
// A callback and a timer rather than an awaitable `||`, which costs two coroutine frames
// and a parallel group per connection; it returns only once both waits have completed, so
// neither handler outlives this frame.
asio::awaitable<bool> writable_within(tcp::socket& socket, conf::Duration timeout) {
  asio::steady_timer timer(socket.get_executor(), timeout);
  bool waited = false;
  boost::system::error_code wait_error;
  socket.async_wait(tcp::socket::wait_write, [&](const boost::system::error_code& error) {
    waited = true;
    wait_error = error;
    timer.cancel();
  });
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  if (waited) co_return !wait_error;
  boost::system::error_code ignored;
  socket.cancel(ignored);
  timer.expires_at(asio::steady_timer::time_point::max());
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  co_return false;
}

// Connects within `timeout` on a fresh non-blocking socket (TCP_NODELAY, TCP_INQ); on
// failure the socket is closed again.
asio::awaitable<boost::system::error_code> connect_within(tcp::socket& socket,
                                                          const tcp::endpoint& target,
                                                          conf::Duration timeout) {
  boost::system::error_code error;
  close_quietly(socket);
  const int fd = open_upstream_socket(target.protocol(), error);
  if (fd < 0) co_return error;
  socket = adopt_nonblocking(socket.get_executor(), target.protocol(), fd, error);
  if (error) co_return error;
  watch_peer_shutdown_later(socket);  // rides on the reactor's EPOLLOUT for the connect
  if (::connect(fd, target.data(), target.size()) != 0) {
    int failure = errno;
    if (failure == EINPROGRESS) {
      const bool writable = co_await writable_within(socket, timeout);
      socklen_t length = sizeof failure;
      if (!writable) {
        failure = ETIMEDOUT;
      } else if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &failure, &length) != 0) {
        failure = errno;
      }
    }
    if (failure != 0) error = {failure, asio::error::get_system_category()};
  }
  if (error) close_quietly(socket);
  co_return error;
}

std::string describe_failure(const lb::EndpointAddress& address, const std::string& why) {
  return address.pod_key() + " " + address.key() + ": " + why;
}

// Per worker: while svcproxy is out of descriptors every request fails the same way.
thread_local LogThrottle local_fault_log(std::chrono::seconds(1));

}  // namespace

UpstreamAttempts::UpstreamAttempts(const lb::Backend& backend, std::string_view client_ip,
                                   std::vector<const lb::Endpoint*>& tried, ServiceStats* stats)
    : backend_(backend), client_ip_(client_ip), tried_(tried), stats_(stats) {
  tried_.clear();
}

void UpstreamAttempts::report(lb::Endpoint& endpoint, lb::Outcome outcome) const {
  const auto ejection = backend_.report(endpoint, outcome);
  if (!ejection) return;
  log(LogLevel::Warn, "service ", backend_.name(), ": ejecting ", endpoint.address().pod_key(), " ",
      endpoint.address().key(), " for ",
      std::chrono::duration_cast<std::chrono::milliseconds>(ejection->duration).count(),
      "ms after ", ejection->consecutive, " consecutive ", lb::to_string(ejection->cause),
      " (ejection ", ejection->ejection_number, ")");
}

bool UpstreamAttempts::retry_after(const lb::EndpointPtr& failed, RetryDecision decision) {
  if (decision == RetryDecision::No) return false;
  tried_.push_back(failed.get());
  retry_pod_ = backend_.pick({client_ip_, lb::Clock::now(), tried_});
  if (!retry_pod_ && decision == RetryDecision::OtherOrSamePod) retry_pod_ = failed;
  return static_cast<bool>(retry_pod_);
}

asio::awaitable<std::optional<UpstreamFailure>> UpstreamAttempts::connect(UpstreamLink& link,
                                                                          conf::Duration timeout,
                                                                          PoolUse pool,
                                                                          const TlsUse& tls) {
  link.guard.release();
  link.tls.reset();
  bool tls_failed = false;  // the last pod tried connected, then failed its TLS handshake
  for (;;) {
    const bool retrying = static_cast<bool>(retry_pod_);
    lb::EndpointPtr endpoint =
        retrying ? std::move(retry_pod_) : backend_.pick({client_ip_, lb::Clock::now(), tried_});
    retry_pod_ = nullptr;
    if (!endpoint) {
      if (tried_.empty()) {
        last_failure_ = backend_.endpoints().empty() ? "no endpoints" : "no ready endpoint";
        co_return UpstreamFailure::NoEndpoint;
      }
      co_return tls_failed ? UpstreamFailure::TlsFailed : UpstreamFailure::ConnectFailed;
    }
    // A retry always gets a fresh connection: the pooled one may be what just failed.
    if (pool.pool && !retrying) {
      if (auto pooled = pool.pool->take(*endpoint, pool.unchecked, tls.config.get())) {
        link.socket = std::move(pooled->socket);
        link.tls = std::move(pooled->tls);
        if (link.tls) link.tls->stream.next_layer().bind(link.socket);
        link.reused = true;
        link.guard = lb::ActiveGuard(std::move(endpoint));
        co_return std::nullopt;
      }
    }
    link.reused = false;
    boost::system::error_code error;
    const tcp::endpoint target = to_tcp_endpoint(endpoint->address(), error);
    if (!error) error = co_await connect_within(link.socket, target, timeout);
    tls_failed = false;
    if (!error && tls.config) {
      std::string failure;
      link.tls = co_await handshake_upstream(link.socket, target, tls.config, tls.handshake_timeout,
                                             failure);
      if (!link.tls) {
        // The pod's fault (not TLS, a certificate for another name or CA): like a refused
        // connect, held against it, and the next pod is tried.
        close_quietly(link.socket);
        last_failure_ = describe_failure(endpoint->address(), failure);
        tls_failed = true;
        if (stats_) record_upstream_connect_failure(*stats_, SocketFault::Tls);
        report(*endpoint, lb::Outcome::ConnectFailure);
        log(LogLevel::Warn, "service ", backend_.name(), ": TLS to ", last_failure_);
        tried_.push_back(endpoint.get());
        continue;
      }
    }
    if (!error) {
      link.guard = lb::ActiveGuard(std::move(endpoint));
      co_return std::nullopt;
    }
    last_failure_ = describe_failure(endpoint->address(), error.message());
    const SocketFault fault = classify_socket_error(error);
    if (is_local(fault)) {
      count_local_resource_error(fault);
      if (const auto suppressed = local_fault_log.admit(std::chrono::steady_clock::now()))
        log(LogLevel::Error, "service ", backend_.name(), ": connect to ", last_failure_,
            " (svcproxy's own limit, no pod blamed; ", *suppressed, " more since the last line)");
      co_return UpstreamFailure::LocalResource;
    }
    if (stats_) record_upstream_connect_failure(*stats_, fault);
    report(*endpoint, lb::Outcome::ConnectFailure);
    log(LogLevel::Warn, "service ", backend_.name(), ": connect to ", last_failure_);
    tried_.push_back(endpoint.get());
  }
}

}  // namespace svcproxy::server

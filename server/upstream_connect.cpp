#include "server/upstream_connect.hpp"

#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>

#include "server/log.hpp"
#include "server/native_socket.hpp"

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

std::string describe_failure(const lb::EndpointAddress& address,
                             const boost::system::error_code& error) {
  return address.pod_key() + " " + address.key() + ": " + error.message();
}

}  // namespace

void report_outcome(const lb::Backend& backend, lb::Endpoint& endpoint, lb::Outcome outcome) {
  const auto ejection = backend.report(endpoint, outcome);
  if (!ejection) return;
  log(LogLevel::Warn, "service ", backend.name(), ": ejecting ", endpoint.address().pod_key(), " ",
      endpoint.address().key(), " for ",
      std::chrono::duration_cast<std::chrono::milliseconds>(ejection->duration).count(),
      "ms after ", ejection->consecutive, " consecutive ", lb::to_string(ejection->cause),
      " (ejection ", ejection->ejection_number, ")");
}

asio::awaitable<boost::system::error_code> connect_endpoint(tcp::socket& socket,
                                                            const lb::EndpointAddress& address,
                                                            conf::Duration timeout) {
  boost::system::error_code error;
  const tcp::endpoint target = to_tcp_endpoint(address, error);
  if (error) co_return error;
  co_return co_await connect_within(socket, target, timeout);
}

asio::awaitable<UpstreamConnection> connect_upstream(const lb::Backend& backend,
                                                     std::string_view client_ip,
                                                     conf::Duration connect_timeout,
                                                     std::vector<const lb::Endpoint*>& tried) {
  // Not `result{tcp::socket(co_await ...), ...}`: GCC 12 miscompiles a co_await inside an
  // aggregate initializer (the std::string member ends up freed from a stale address).
  const auto executor = co_await asio::this_coro::executor;
  UpstreamConnection result{tcp::socket(executor), {}, {}, 0};
  for (;;) {
    lb::EndpointPtr endpoint = backend.pick({client_ip, lb::Clock::now(), tried});
    if (!endpoint) break;
    tried.push_back(endpoint.get());
    lb::ActiveGuard active(endpoint);
    boost::system::error_code error;
    const tcp::endpoint target = to_tcp_endpoint(endpoint->address(), error);
    if (!error) error = co_await connect_within(result.socket, target, connect_timeout);
    if (!error) {
      result.endpoint = std::move(active);
      co_return result;
    }
    ++result.failed_attempts;
    result.failure = describe_failure(endpoint->address(), error);
    report_outcome(backend, *endpoint, lb::Outcome::ConnectFailure);
    log(LogLevel::Warn, "service ", backend.name(), ": connect to ", result.failure);
  }
  if (result.failure.empty())
    result.failure = backend.endpoints().empty() ? "no endpoints" : "no ready endpoint";
  co_return result;
}

}  // namespace svcproxy::server

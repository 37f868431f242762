#include "server/upstream_connect.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "server/log.hpp"

namespace svcproxy::server {
namespace asio = boost::asio;
using asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;

tcp::endpoint to_tcp_endpoint(const lb::EndpointAddress& address,
                              boost::system::error_code& error) {
  const auto ip = asio::ip::make_address(address.ip, error);
  if (error) return {};
  return {ip, static_cast<unsigned short>(address.port)};
}

namespace {

// Connects within `timeout`; on failure the socket is closed again.
asio::awaitable<boost::system::error_code> connect_within(tcp::socket& socket,
                                                          const tcp::endpoint& target,
                                                          conf::Duration timeout) {
  asio::steady_timer timer(co_await asio::this_coro::executor, timeout);
  auto outcome = co_await (socket.async_connect(target, asio::as_tuple(asio::use_awaitable)) ||
                           timer.async_wait(asio::as_tuple(asio::use_awaitable)));
  boost::system::error_code error =
      outcome.index() == 0 ? std::get<0>(std::get<0>(outcome)) : asio::error::timed_out;
  if (error) {
    boost::system::error_code ignored;
    socket.close(ignored);
  } else {
    socket.set_option(tcp::no_delay(true), error);
  }
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

#include "server/l4/l4_session.hpp"

#include <boost/asio/this_coro.hpp>
#include <chrono>

#include "server/l4/tcp_relay.hpp"
#include "server/l4/tls_relay.hpp"
#include "server/log/access_log.hpp"
#include "server/log/log.hpp"
#include "server/net/native_socket.hpp"
#include "server/upstream/upstream_connect.hpp"

namespace svcproxy::server {
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

// The connect, the relay `relay_to(pod socket)` runs, and the access line: the same for a
// plain client socket and a TLS one.
template <class RelayTo>
asio::awaitable<void> serve_l4(const tcp::endpoint& peer, const lb::BackendPtr& backend,
                               const RoutingTablePtr& routes, const StatsHandle& stats,
                               const asio::any_io_executor& executor, RelayTo relay_to) {
  const auto started = std::chrono::steady_clock::now();
  L4AccessRecord record;
  record.service = backend->name();
  const PeerAddress client_address = describe_peer(peer);
  record.client = client_address.ip_port;

  std::vector<const lb::Endpoint*> tried;
  UpstreamAttempts attempts(*backend, client_address.ip, tried, stats.get());
  UpstreamLink upstream(executor);
  if (const auto failure = co_await attempts.connect(upstream, routes->settings.timeouts.connect)) {
    // A local resource failure was logged (throttled) where it happened.
    if (*failure != UpstreamFailure::LocalResource)
      log(LogLevel::Warn, "service ", backend->name(), ": closing connection from ", record.client,
          ": ", attempts.last_failure());
    record.close_reason =
        *failure == UpstreamFailure::LocalResource ? "local_resource" : "no_endpoint";
  } else {
    const RelayResult relayed = co_await relay_to(upstream.socket);
    record.bytes_received = relayed.client_to_upstream;
    record.bytes_sent = relayed.upstream_to_client;
    record.close_reason = to_string(relayed.end);
    attempts.report(*upstream.endpoint(), relayed.end == RelayEnd::UpstreamReset
                                              ? lb::Outcome::Reset
                                              : lb::Outcome::Success);
    // Counted when the connection ends: a scrape during a long transfer does not see it yet.
    record_bytes(*stats, relayed.client_to_upstream, relayed.upstream_to_client);
  }
  if (!access_log_enabled()) co_return;
  record.duration = std::chrono::steady_clock::now() - started;
  std::string pod, upstream_address;  // built only for the log
  if (upstream.connected()) {
    const auto& address = upstream.endpoint()->address();
    pod = address.pod_key();
    upstream_address = address.key();
    record.pod = pod;
    record.upstream = upstream_address;
  }
  write_access_log(record);
}

}  // namespace

asio::awaitable<void> serve_l4_connection(tcp::socket client, tcp::endpoint peer,
                                          lb::BackendPtr backend, RoutingTablePtr routes,
                                          StatsHandle stats, RelayPools pools) {
  const conf::Duration idle = routes->settings.timeouts.idle;
  co_await serve_l4(peer, backend, routes, stats, client.get_executor(),
                    [&](tcp::socket& upstream) { return relay(client, upstream, idle, pools); });
}

asio::awaitable<void> serve_l4_tls_connection(TlsClientStream client, tcp::endpoint peer,
                                              lb::BackendPtr backend, RoutingTablePtr routes,
                                              StatsHandle stats, RelayBufferPool& buffers) {
  const conf::Duration idle = routes->settings.timeouts.idle;
  co_await serve_l4(
      peer, backend, routes, stats, client.get_executor(),
      [&](tcp::socket& upstream) { return relay_tls(client, upstream, idle, buffers); });
}

}  // namespace svcproxy::server

#include "server/l4_session.hpp"

#include <boost/asio/this_coro.hpp>
#include <chrono>

#include "server/access_log.hpp"
#include "server/log.hpp"
#include "server/native_socket.hpp"
#include "server/tcp_relay.hpp"
#include "server/upstream_connect.hpp"

namespace svcproxy::server {
namespace asio = boost::asio;
using asio::ip::tcp;

asio::awaitable<void> serve_l4_connection(tcp::socket client, tcp::endpoint peer,
                                          lb::BackendPtr backend, RoutingTablePtr routes,
                                          StatsHandle stats, RelayPools pools) {
  const auto started = std::chrono::steady_clock::now();
  L4AccessRecord record;
  record.service = backend->name();
  const PeerAddress client_address = describe_peer(peer);
  record.client = client_address.ip_port;

  std::vector<const lb::Endpoint*> tried;
  UpstreamConnection upstream = co_await connect_upstream(*backend, client_address.ip,
                                                          routes->settings.timeouts.connect, tried);
  record_upstream_connect_failures(*stats, upstream.failed_attempts);
  if (!upstream.connected()) {
    log(LogLevel::Warn, "service ", backend->name(), ": closing connection from ", record.client,
        ": ", upstream.failure);
    record.close_reason = "no_endpoint";
  } else {
    const auto& address = upstream.endpoint.endpoint()->address();
    record.pod = address.pod_key();
    record.upstream = address.key();
    const RelayResult relayed =
        co_await relay(client, upstream.socket, routes->settings.timeouts.idle, pools);
    record.bytes_received = relayed.client_to_upstream;
    record.bytes_sent = relayed.upstream_to_client;
    record.close_reason = to_string(relayed.end);
    report_outcome(
        *backend, *upstream.endpoint.endpoint(),
        relayed.end == RelayEnd::UpstreamReset ? lb::Outcome::Reset : lb::Outcome::Success);
    // Counted when the connection ends: a scrape during a long transfer does not see it yet.
    record_bytes(*stats, relayed.client_to_upstream, relayed.upstream_to_client);
  }
  record.duration = std::chrono::steady_clock::now() - started;
  if (access_log_enabled()) write_access_log(record);
}

}  // namespace svcproxy::server

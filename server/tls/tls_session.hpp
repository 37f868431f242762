// A client connection to a TLS port: the handshake (bounded by timeouts.tlsHandshake),
// then the same HTTP/1.1 session as a plain port over the TLS stream, or on an L4 port the
// decrypted bytes relayed to a pod (relay_tls). A client that sends
// a plain HTTP request gets nginx's 400 ("The plain HTTP request was sent to HTTPS port")
// and anything else that is not TLS is closed; each outcome is counted
// (svcproxy_tls_handshakes_total, svcproxy_tls_handshake_errors_total).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <string>

#include "conf/model.hpp"
#include "lb/backend.hpp"
#include "server/metrics/metrics.hpp"
#include "server/worker/routing_table.hpp"

namespace svcproxy::server {

class TlsTerminator;
class WorkerContext;

// What the connection carries inside TLS: HTTP (routed by `backend_key` per request, as
// on a plain port) or an L4 relay to a pod of `backend`.
struct TlsPayload {
  conf::AppProtocol protocol = conf::AppProtocol::Http;
  std::string backend_key;
  lb::BackendPtr backend;  // L4
  RoutingTablePtr routes;  // L4
  StatsHandle stats;       // L4
};

boost::asio::awaitable<void> serve_tls_connection(boost::asio::ip::tcp::socket socket,
                                                  boost::asio::ip::tcp::endpoint peer,
                                                  std::shared_ptr<TlsTerminator> tls,
                                                  TlsPayload payload, WorkerContext& worker,
                                                  conf::Duration handshake_timeout);

}  // namespace svcproxy::server

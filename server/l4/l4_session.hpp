// A TCP (L4) connection to a service port, relayed to one pod.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "lb/backend.hpp"
#include "server/l4/tcp_relay.hpp"
#include "server/l4/tls_relay.hpp"
#include "server/metrics/metrics.hpp"
#include "server/worker/routing_table.hpp"

namespace svcproxy::server {

// Connects to a pod of `backend` (trying the next one when a pod refuses), then relays
// both directions until both have ended, propagating half-close, and ends an idle relay
// after timeouts.idle. Logs one access line when the connection ends and counts its
// bytes and failed connects into `stats` (the worker's slot; opened/closed are counted by
// the worker).
boost::asio::awaitable<void> serve_l4_connection(boost::asio::ip::tcp::socket client,
                                                 boost::asio::ip::tcp::endpoint peer,
                                                 lb::BackendPtr backend, RoutingTablePtr routes,
                                                 StatsHandle stats, RelayPools pools);

// The same over a client TLS stream whose handshake is done (relay_tls).
boost::asio::awaitable<void> serve_l4_tls_connection(TlsClientStream client,
                                                     boost::asio::ip::tcp::endpoint peer,
                                                     lb::BackendPtr backend, RoutingTablePtr routes,
                                                     StatsHandle stats, RelayBufferPool& buffers);

}  // namespace svcproxy::server

// Connecting to a pod of a service port: the next endpoint is tried when one refuses or
// times out, so a client never notices a dead pod while a live one exists.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "conf/model.hpp"
#include "lb/backend.hpp"
#include "lb/outlier_detection.hpp"

namespace svcproxy::server {

struct UpstreamConnection {
  boost::asio::ip::tcp::socket socket;
  lb::ActiveGuard endpoint;  // empty when no endpoint could be reached
  std::string failure;       // why, when `endpoint` is empty
  int failed_attempts = 0;   // endpoints that refused or timed out first

  bool connected() const { return static_cast<bool>(endpoint.endpoint()); }
};

// `tried` lists endpoints this request already used (for an L7 retry); the ones that fail
// here are added to it.
boost::asio::awaitable<UpstreamConnection> connect_upstream(
    const lb::Backend& backend, std::string_view client_ip, conf::Duration connect_timeout,
    std::vector<const lb::Endpoint*>& tried);

// Feeds the outlier detector and logs an ejection. Call on the worker that picked.
void report_outcome(const lb::Backend& backend, lb::Endpoint& endpoint, lb::Outcome outcome);

// Connects `socket` to one pod within `timeout`, with TCP_NODELAY; the socket is closed
// again on failure. For callers that pick the endpoint themselves (the L7 pool).
boost::asio::awaitable<boost::system::error_code> connect_endpoint(
    boost::asio::ip::tcp::socket& socket, const lb::EndpointAddress& address,
    conf::Duration timeout);

// Resolves a pod address once per connect; returns an empty endpoint for a malformed IP.
boost::asio::ip::tcp::endpoint to_tcp_endpoint(const lb::EndpointAddress& address,
                                               boost::system::error_code& error);

}  // namespace svcproxy::server

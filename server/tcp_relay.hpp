// Bidirectional byte relay between two connected sockets, shared by the L4 proxy and
// HTTP upgrade tunnels (WebSocket).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>

#include "conf/model.hpp"

namespace svcproxy::server {

enum class RelayEnd { BothClosed, ClientReset, UpstreamReset, IdleTimeout };

struct RelayResult {
  std::uint64_t client_to_upstream = 0;
  std::uint64_t upstream_to_client = 0;
  RelayEnd end = RelayEnd::BothClosed;
};

const char* to_string(RelayEnd end);

// Returns when both directions have seen EOF (each EOF is passed on as a shutdown of the
// other side's sending half), when either side fails (the other is then reset too), or
// when no byte moved for `idle_timeout`.
boost::asio::awaitable<RelayResult> relay(boost::asio::ip::tcp::socket& client,
                                          boost::asio::ip::tcp::socket& upstream,
                                          conf::Duration idle_timeout);

}  // namespace svcproxy::server

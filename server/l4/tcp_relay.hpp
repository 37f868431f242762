// Bidirectional byte relay between two connected sockets, shared by the L4 proxy and
// HTTP upgrade tunnels (WebSocket).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>

#include "conf/model.hpp"
#include "server/net/splice_pipe.hpp"
#include "server/worker/buffer_pool.hpp"

namespace svcproxy::server {

enum class RelayEnd { BothClosed, ClientReset, UpstreamReset, IdleTimeout };

struct RelayResult {
  std::uint64_t client_to_upstream = 0;
  std::uint64_t upstream_to_client = 0;
  RelayEnd end = RelayEnd::BothClosed;
};

const char* to_string(RelayEnd end);

// What a relay borrows from its worker while bytes move.
struct RelayPools {
  RelayBufferPool& buffers;
  PipePool& pipes;
};

// Returns when both directions have seen EOF (each EOF is passed on as a shutdown of the
// other side's sending half; the socket that saw both is closed), when either side fails
// (both are then reset), or when no byte moved for `idle_timeout` (both reset). Buffers
// come from the pools only while bytes are in flight: an idle relay holds none. A direction
// that fills a whole buffer is bulk and continues with splice(2) through a pooled pipe.
boost::asio::awaitable<RelayResult> relay(boost::asio::ip::tcp::socket& client,
                                          boost::asio::ip::tcp::socket& upstream,
                                          conf::Duration idle_timeout, RelayPools pools);

}  // namespace svcproxy::server

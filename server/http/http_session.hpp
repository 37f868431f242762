// An HTTP/1.1 client connection to an L7 service port: reads requests one after another
// (keep-alive, pipelined requests answered in order), rejects malformed ones with
// 400/408/413/414/431/501/505, forwards the rest (http_forward) and logs one access line
// per request.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <string>

#include "server/net/byte_stream.hpp"

namespace svcproxy::server {

class WorkerContext;

// Runs on `worker`'s thread until the client closes, an error ends the connection, or the
// worker drains. The backend is looked up by `backend_key` in the worker's current routes
// for each request, so a reload reaches keep-alive connections.
template <ByteStream Stream>
boost::asio::awaitable<void> serve_http_connection(Stream client,
                                                   boost::asio::ip::tcp::endpoint peer,
                                                   std::string backend_key, WorkerContext& worker);

}  // namespace svcproxy::server

// The HTTP/1.1 session over a TLS stream: the same template as a plain port's
// (http_session_impl.hpp), compiled here for asio::ssl::stream.
#include <boost/asio/ssl/stream.hpp>

#include "server/http/http_session_impl.hpp"

// GCC 12 reports a false mismatched-new-delete on Asio's awaitable frames in this file.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace svcproxy::server {

template boost::asio::awaitable<void> serve_http_connection(
    boost::asio::ssl::stream<boost::asio::ip::tcp::socket> client,
    boost::asio::ip::tcp::endpoint peer, std::string backend_key, WorkerContext& worker);

}  // namespace svcproxy::server

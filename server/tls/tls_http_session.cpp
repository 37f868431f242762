// The HTTP/1.1 session over a TLS stream: the same template as a plain port's
// (http_session_impl.hpp), compiled here for TlsSocket.
#include "server/tls/tls_socket.hpp"
// After tls_socket.hpp: the session's may_be_readable finds TlsSocket's.
#include "server/http/http_session_impl.hpp"

// GCC 12 reports a false mismatched-new-delete on Asio's awaitable frames in this file.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace svcproxy::server {

template boost::asio::awaitable<void> serve_http_connection(TlsSocket client,
                                                            boost::asio::ip::tcp::endpoint peer,
                                                            std::string backend_key,
                                                            WorkerContext& worker);

}  // namespace svcproxy::server

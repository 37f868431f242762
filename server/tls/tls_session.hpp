// A client connection to a TLS port: the handshake (bounded by timeouts.tlsHandshake),
// then the same HTTP/1.1 session as a plain port, over the TLS stream. A client that sends
// a plain HTTP request gets nginx's 400 ("The plain HTTP request was sent to HTTPS port")
// and anything else that is not TLS is closed; each outcome is counted
// (svcproxy_tls_handshakes_total, svcproxy_tls_handshake_errors_total).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <string>

#include "conf/model.hpp"

namespace svcproxy::server {

class TlsTerminator;
class WorkerContext;

boost::asio::awaitable<void> serve_tls_connection(boost::asio::ip::tcp::socket socket,
                                                  boost::asio::ip::tcp::endpoint peer,
                                                  std::shared_ptr<TlsTerminator> tls,
                                                  std::string backend_key, WorkerContext& worker,
                                                  conf::Duration handshake_timeout);

}  // namespace svcproxy::server

// The L4 relay for a client connection whose TLS svcproxy terminated: decrypted bytes to
// and from one pod's plain TCP socket.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "conf/model.hpp"
#include "server/l4/tcp_relay.hpp"
#include "server/tls/tls_socket.hpp"
#include "server/worker/buffer_pool.hpp"

namespace svcproxy::server {

using TlsClientStream = TlsSocket;

// As relay() for a plain client, through user space (OpenSSL decrypts; no splice(2)), and
// with the same promises: a buffer is borrowed only while bytes are in flight, a failure
// on either side resets both, and no byte moving for `idle_timeout` resets both. Ends:
// - the client's close_notify (or its FIN without one) is passed on as a shutdown of the
//   pod's sending half, and the pod's bytes keep flowing until the pod closes;
// - the pod's FIN ends the session: close_notify goes to the client (as nginx's stream
//   proxy ends both sides when the upstream closes: TLS 1.2 has no half-close), without
//   waiting for the client's answer.
boost::asio::awaitable<RelayResult> relay_tls(TlsClientStream& client,
                                              boost::asio::ip::tcp::socket& upstream,
                                              conf::Duration idle_timeout,
                                              RelayBufferPool& buffers);

}  // namespace svcproxy::server

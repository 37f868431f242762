// Moving a response body from a pod to the client once its head went out, split by how the
// pod framed it: a long Content-Length body is spliced (splice(2) through a pipe, no copy
// through user space); a shorter one, or one delimited by the pod's close, is copied as it
// is in the relay's large buffers; a chunked one is parsed and chunked again (or sent
// until close to an HTTP/1.0 client). And the tunnel after a 101. Worker thread, one
// exchange of one HttpConnection.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>

#include "conf/model.hpp"
#include "server/http/http_connection.hpp"
#include "server/http/http_forward.hpp"
#include "server/http_message/http_rewrite.hpp"
#include "server/http_message/response_head.hpp"

namespace svcproxy::server {

enum class RelayOutcome { Done, UpstreamFailed, ClientFailed };

// `remaining`: of a Length body, the bytes still to come after what went with the head.
// `parser` has parsed the head (a chunked body is parsed on through it).
boost::asio::awaitable<RelayOutcome> relay_response_body(
    HttpConnection& c, ResponseHeadParser& parser, boost::asio::ip::tcp::socket& from,
    const BodyFraming& from_pod, const BodyFraming& to_client, std::uint64_t remaining,
    ForwardResult& result, conf::Duration idle);

// After the pod's 101: the response head in c.head and what each side already sent go
// first, then bytes flow both ways until both ends close (the L4 relay).
boost::asio::awaitable<void> tunnel(HttpConnection& c, boost::asio::ip::tcp::socket& upstream,
                                    ForwardResult& result, conf::Duration idle);

}  // namespace svcproxy::server

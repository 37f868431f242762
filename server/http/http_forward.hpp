// Forwarding one parsed request to a pod and its response back: pick a pod for this
// request, take a pooled connection (or connect), write the head and stream the body,
// read the response head and stream its body back. Retries a request that failed before
// any response byte when its body can be sent again (see forward_request).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include "conf/model.hpp"
#include "lb/backend.hpp"
#include "server/http/http_connection.hpp"
#include "server/metrics/metrics.hpp"
#include "server/upstream/upstream_tls.hpp"

namespace svcproxy::server {

struct ForwardResult {
  int status = 0;                          // sent to the client; 0 when none was
  const lb::Endpoint* endpoint = nullptr;  // the pod that answered (owned by the backend)
  std::uint64_t body_received = 0;         // request body bytes read from the client
  std::uint64_t bytes_sent = 0;            // bytes written to the client
  std::chrono::steady_clock::duration upstream_duration{};
  std::string_view error;  // static text: why the exchange failed, empty when it did not
  std::optional<RejectReason> rejected;  // svcproxy refused the request body itself
  bool keep_client = false;              // the client connection may carry another request
  bool linger = false;                   // close gracefully: the client may still be sending
  int retries = 0;                       // attempts after the first, on a fresh connection or pod
};

// `request` has a complete, validated head; its body (if any) is still to be read from
// `connection.client_buffer` and the client socket. Never throws for network errors.
//
// Retries as retry_policy.hpp decides: never once a byte of a non-idempotent request (or a
// streamed body) reached a pod; connect failures always move on to the next pod; a
// response timeout is never retried (504). svcproxy's own resource failures (socket_faults.hpp)
// answer 503 and blame no pod. `stats` (may be null) counts each failed connect. A request body
// that stalls longer than timeouts.requestBody is answered with 408 and the pod's connection reset.
// `tls` (a backend-TLS port): the pods are reached over TLS, verified as it says; a pod
// that fails the handshake counts as a failed connect, 502 when none passes.
template <ByteStream Stream>
boost::asio::awaitable<ForwardResult> forward_request(
    BasicHttpConnection<Stream>& connection, RequestParser& request, const lb::Backend& backend,
    const conf::ProxySettings& settings, ServiceStats* stats,
    const std::shared_ptr<const UpstreamTls>& tls);

}  // namespace svcproxy::server

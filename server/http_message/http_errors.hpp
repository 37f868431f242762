// What a client sees when a request cannot be served: the status for each kind of failure
// and a short text body. The one place where upstream error codes become 502/503/504.
#pragma once

#include <boost/system/error_code.hpp>
#include <cstddef>
#include <string>
#include <string_view>

namespace svcproxy::server {

enum class HttpError : int {
  BadRequest = 400,
  MethodNotAllowed = 405,
  RequestTimeout = 408,
  PayloadTooLarge = 413,
  UriTooLong = 414,
  HeaderFieldsTooLarge = 431,
  NotImplemented = 501,
  BadGateway = 502,
  ServiceUnavailable = 503,
  GatewayTimeout = 504,
  VersionNotSupported = 505,
};

// Why svcproxy itself refused a request: the access log's `error=` and the `reason` label
// of svcproxy_http_rejected_requests_total.
enum class RejectReason {
  Malformed,           // not HTTP/1.x syntax (Beast refused it)
  BadFraming,          // Content-Length and Transfer-Encoding in conflict, TE from HTTP/1.0
  BadChunk,            // chunked framing that is not strict RFC 9112
  ChunkLineTooLong,    // limits.maxChunkLineBytes
  BadTarget,           // request target (RFC 9112 3.2): fragment, `*` off OPTIONS, authority
  BadHost,             // missing, repeated or malformed Host
  MethodNotAllowed,    // CONNECT: svcproxy opens no tunnels
  UriTooLong,          // limits.maxRequestLineBytes
  HeaderTooLarge,      // limits.maxHeaderBytes
  TooManyHeaders,      // limits.maxHeaderCount
  TrailersTooLarge,    // the trailer section over maxHeaderBytes or maxHeaderCount
  BodyTooLarge,        // limits.maxBodyBytes
  UnsupportedVersion,  // HTTP/x.y other than 1.0 and 1.1
  NotImplemented,      // a transfer coding other than chunked
  HeaderTimeout,       // timeouts.requestHeader
  BodyTimeout,         // timeouts.requestBody
};
inline constexpr std::size_t kRejectReasons =
    static_cast<std::size_t>(RejectReason::BodyTimeout) + 1;

struct Rejection {
  HttpError status = HttpError::BadRequest;
  RejectReason reason = RejectReason::Malformed;
  friend bool operator==(const Rejection&, const Rejection&) = default;
};

const char* to_string(RejectReason reason);

// Why a request could not be answered by a pod.
enum class UpstreamFailure {
  NoEndpoint,     // no ready endpoint to pick
  ConnectFailed,  // every pod tried refused or timed out
  Reset,          // the connection broke before a complete response head
  BadResponse,    // the pod's response could not be parsed
  Timeout,        // no response head within timeouts.upstreamResponse
  LocalResource,  // svcproxy's own: out of descriptors, buffers or ports (socket_faults.hpp)
  TlsFailed,      // connected, but the TLS handshake with the pod failed (backend TLS)
};

int status_code(HttpError error);
std::string_view reason_phrase(HttpError error);
const char* to_string(UpstreamFailure failure);

// 502 for refused, reset and malformed, 503 for no endpoint and svcproxy's own resource
// failures, 504 for a timeout.
HttpError to_http_error(UpstreamFailure failure);

// Classifies an error from reading or writing a pod's connection; `timed_out` is set when
// our own deadline cancelled the operation.
UpstreamFailure classify_upstream_error(const boost::system::error_code& error, bool timed_out);

// A complete response with a one-line text/plain body; `keep_alive` false adds
// Connection: close.
std::string error_response(HttpError error, bool keep_alive);

}  // namespace svcproxy::server

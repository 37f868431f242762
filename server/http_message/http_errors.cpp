#include "server/http_message/http_errors.hpp"

#include <boost/asio/error.hpp>
#include <boost/beast/http/error.hpp>

#include "server/upstream/socket_faults.hpp"

namespace svcproxy::server {

int status_code(HttpError error) {
  return static_cast<int>(error);
}

std::string_view reason_phrase(HttpError error) {
  switch (error) {
    case HttpError::BadRequest:
      return "Bad Request";
    case HttpError::MethodNotAllowed:
      return "Method Not Allowed";
    case HttpError::RequestTimeout:
      return "Request Timeout";
    case HttpError::PayloadTooLarge:
      return "Payload Too Large";
    case HttpError::UriTooLong:
      return "URI Too Long";
    case HttpError::HeaderFieldsTooLarge:
      return "Request Header Fields Too Large";
    case HttpError::NotImplemented:
      return "Not Implemented";
    case HttpError::BadGateway:
      return "Bad Gateway";
    case HttpError::ServiceUnavailable:
      return "Service Unavailable";
    case HttpError::GatewayTimeout:
      return "Gateway Timeout";
    case HttpError::VersionNotSupported:
      return "HTTP Version Not Supported";
  }
  return "Error";
}

const char* to_string(RejectReason reason) {
  switch (reason) {
    case RejectReason::Malformed:
      return "malformed";
    case RejectReason::BadFraming:
      return "bad_framing";
    case RejectReason::BadChunk:
      return "bad_chunk";
    case RejectReason::ChunkLineTooLong:
      return "chunk_line_too_long";
    case RejectReason::BadTarget:
      return "bad_target";
    case RejectReason::BadHost:
      return "bad_host";
    case RejectReason::MethodNotAllowed:
      return "method_not_allowed";
    case RejectReason::UriTooLong:
      return "uri_too_long";
    case RejectReason::HeaderTooLarge:
      return "header_too_large";
    case RejectReason::TooManyHeaders:
      return "too_many_headers";
    case RejectReason::TrailersTooLarge:
      return "trailers_too_large";
    case RejectReason::BodyTooLarge:
      return "body_too_large";
    case RejectReason::UnsupportedVersion:
      return "unsupported_version";
    case RejectReason::NotImplemented:
      return "not_implemented";
    case RejectReason::HeaderTimeout:
      return "header_timeout";
    case RejectReason::BodyTimeout:
      return "body_timeout";
  }
  return "?";
}

const char* to_string(UpstreamFailure failure) {
  switch (failure) {
    case UpstreamFailure::NoEndpoint:
      return "no_endpoint";
    case UpstreamFailure::ConnectFailed:
      return "connect_failed";
    case UpstreamFailure::Reset:
      return "upstream_reset";
    case UpstreamFailure::BadResponse:
      return "bad_response";
    case UpstreamFailure::Timeout:
      return "upstream_timeout";
    case UpstreamFailure::LocalResource:
      return "local_resource";
    case UpstreamFailure::TlsFailed:
      return "upstream_tls_failed";
  }
  return "?";
}

HttpError to_http_error(UpstreamFailure failure) {
  switch (failure) {
    case UpstreamFailure::NoEndpoint:
    case UpstreamFailure::LocalResource:
      return HttpError::ServiceUnavailable;
    case UpstreamFailure::Timeout:
      return HttpError::GatewayTimeout;
    case UpstreamFailure::ConnectFailed:
    case UpstreamFailure::Reset:
    case UpstreamFailure::BadResponse:
    case UpstreamFailure::TlsFailed:
      return HttpError::BadGateway;
  }
  return HttpError::BadGateway;
}

UpstreamFailure classify_upstream_error(const boost::system::error_code& error, bool timed_out) {
  if (timed_out || error == boost::asio::error::timed_out) return UpstreamFailure::Timeout;
  if (is_local(classify_socket_error(error))) return UpstreamFailure::LocalResource;
  namespace http = boost::beast::http;
  // Beast reports a clean close before a complete message as end_of_stream / partial_message:
  // the pod went away, which is a reset for our purposes, not a malformed response.
  if (error == http::error::end_of_stream || error == http::error::partial_message)
    return UpstreamFailure::Reset;
  if (error.category() == http::make_error_code(http::error::bad_version).category())
    return UpstreamFailure::BadResponse;
  return UpstreamFailure::Reset;
}

std::string error_response(HttpError error, bool keep_alive) {
  const std::string status = std::to_string(status_code(error));
  const std::string_view reason = reason_phrase(error);
  std::string body = status;
  body += ' ';
  body += reason;
  body += '\n';
  std::string response = "HTTP/1.1 " + status + " ";
  response += reason;
  // 405 must say what is allowed (RFC 9110 15.5.6): every method but CONNECT.
  if (error == HttpError::MethodNotAllowed)
    response += "\r\nAllow: GET, HEAD, POST, PUT, DELETE, OPTIONS, TRACE, PATCH";
  response += "\r\nContent-Type: text/plain\r\nContent-Length: ";
  response += std::to_string(body.size());
  response += keep_alive ? "\r\n\r\n" : "\r\nConnection: close\r\n\r\n";
  response += body;
  return response;
}

}  // namespace svcproxy::server

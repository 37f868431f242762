#include "server/http_message/http_errors.hpp"

#include <doctest/doctest.h>

#include <boost/asio/error.hpp>
#include <boost/beast/http/error.hpp>

using namespace svcproxy::server;

TEST_CASE("upstream failures map to 502, 503 and 504") {
  CHECK(to_http_error(UpstreamFailure::NoEndpoint) == HttpError::ServiceUnavailable);
  CHECK(to_http_error(UpstreamFailure::ConnectFailed) == HttpError::BadGateway);
  CHECK(to_http_error(UpstreamFailure::Reset) == HttpError::BadGateway);
  CHECK(to_http_error(UpstreamFailure::BadResponse) == HttpError::BadGateway);
  CHECK(to_http_error(UpstreamFailure::Timeout) == HttpError::GatewayTimeout);
}

TEST_CASE("upstream error codes are classified") {
  namespace http = boost::beast::http;
  CHECK(classify_upstream_error(boost::asio::error::operation_aborted, true) ==
        UpstreamFailure::Timeout);
  CHECK(classify_upstream_error(boost::asio::error::connection_reset, false) ==
        UpstreamFailure::Reset);
  CHECK(classify_upstream_error(boost::asio::error::eof, false) == UpstreamFailure::Reset);
  CHECK(classify_upstream_error(http::error::bad_version, false) == UpstreamFailure::BadResponse);
  CHECK(classify_upstream_error(http::error::header_limit, false) == UpstreamFailure::BadResponse);
}

TEST_CASE("an error response is complete, short and closes when asked") {
  const std::string keep = error_response(HttpError::BadGateway, true);
  CHECK(keep ==
        "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nContent-Length: 16\r\n\r\n"
        "502 Bad Gateway\n");
  const std::string close = error_response(HttpError::HeaderFieldsTooLarge, false);
  CHECK(close.find("HTTP/1.1 431 Request Header Fields Too Large\r\n") == 0);
  CHECK(close.find("\r\nConnection: close\r\n\r\n") != std::string::npos);
  for (HttpError error :
       {HttpError::BadRequest, HttpError::RequestTimeout, HttpError::PayloadTooLarge,
        HttpError::UriTooLong, HttpError::NotImplemented, HttpError::ServiceUnavailable,
        HttpError::GatewayTimeout, HttpError::VersionNotSupported}) {
    const std::string response = error_response(error, false);
    CHECK(response.find(std::to_string(status_code(error))) == 9);
    CHECK(response.size() < 200);
  }
}

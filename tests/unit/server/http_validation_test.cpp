// Framing decisions: every smuggling vector is refused before a pod sees it. Heads are
// parsed by Beast's request parser exactly as the session does.
#include "server/http_validation.hpp"

#include <doctest/doctest.h>

#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <optional>
#include <string>

using namespace svcproxy::server;
namespace http = boost::beast::http;

namespace {

// The status the session answers for `raw`, or nullopt when the head is forwarded.
std::optional<HttpError> verdict(const std::string& raw, std::uint32_t header_limit = 8192) {
  http::request_parser<http::buffer_body, FieldAllocator> parser;
  parser.header_limit(header_limit);
  boost::system::error_code error;
  const std::size_t used = parser.put(boost::asio::buffer(raw), error);
  if (parser.is_header_done())
    return check_request_head(parser.get(), std::string_view(raw).substr(0, used));
  if (error == http::error::need_more) return std::nullopt;
  return classify_request_parse_error(error, raw);
}

}  // namespace

TEST_CASE("a plain request passes") {
  CHECK_FALSE(verdict("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  CHECK_FALSE(verdict("GET / HTTP/1.0\r\n\r\n"));
  CHECK_FALSE(verdict("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"));
  CHECK_FALSE(
      verdict("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n"));
}

TEST_CASE("Content-Length with Transfer-Encoding is 400, in either order") {
  CHECK(verdict("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: "
                "chunked\r\n\r\n") == HttpError::BadRequest);
  CHECK(verdict("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: "
                "5\r\n\r\n") == HttpError::BadRequest);
}

TEST_CASE("differing Content-Lengths are 400") {
  CHECK(verdict("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n") ==
        HttpError::BadRequest);
  CHECK(verdict("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\n") ==
        HttpError::BadRequest);
  CHECK(verdict("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n") ==
        HttpError::BadRequest);
}

TEST_CASE("a Transfer-Encoding other than chunked is 501") {
  CHECK(verdict("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n") ==
        HttpError::NotImplemented);
  CHECK(verdict("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n") ==
        HttpError::NotImplemented);
  CHECK(verdict("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n") ==
        HttpError::NotImplemented);
  CHECK(verdict("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n") == HttpError::BadRequest);
}

TEST_CASE("obs-fold, a space before the colon and a bare CR are 400") {
  CHECK(verdict("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n") == HttpError::BadRequest);
  CHECK(verdict("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n\tc\r\n\r\n") == HttpError::BadRequest);
  CHECK(verdict("GET / HTTP/1.1\r\nHost : a\r\n\r\n") == HttpError::BadRequest);
  CHECK(verdict("GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n") == HttpError::BadRequest);
  CHECK(verdict("GET / HTTP/1.1\r\nHost: a\r\nX: b\rc\r\n\r\n") == HttpError::BadRequest);
}

TEST_CASE("Host is required once in HTTP/1.1") {
  CHECK(verdict("GET / HTTP/1.1\r\n\r\n") == HttpError::BadRequest);
  CHECK(verdict("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n") == HttpError::BadRequest);
}

TEST_CASE("other HTTP versions and the HTTP/2 preface are 505; garbage is 400") {
  CHECK(verdict("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") == HttpError::VersionNotSupported);
  CHECK(verdict("GET / HTTP/1.2\r\nHost: a\r\n\r\n") == HttpError::VersionNotSupported);
  CHECK(verdict("GET / HTTP/3.0\r\nHost: a\r\n\r\n") == HttpError::VersionNotSupported);
  CHECK(verdict("GET / HTTP/1.1\nHost: a\n\n") == HttpError::BadRequest);
  CHECK(verdict("GET / FOO/1.1\r\nHost: a\r\n\r\n") == HttpError::BadRequest);
  CHECK(verdict("GET /\r\n\r\n") == HttpError::BadRequest);
}

TEST_CASE("a long request line is 414, long headers 431") {
  CHECK(verdict("GET /" + std::string(10000, 'a'), 8192) == HttpError::UriTooLong);
  CHECK(verdict("GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(10000, 'a'), 8192) ==
        HttpError::HeaderFieldsTooLarge);
}

TEST_CASE("a body over the limit is 413 from its Content-Length") {
  http::request_parser<http::buffer_body, FieldAllocator> parser;
  parser.body_limit(10);
  boost::system::error_code error;
  const std::string raw = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n";
  parser.put(boost::asio::buffer(raw), error);
  CHECK(classify_request_parse_error(error, raw) == HttpError::PayloadTooLarge);
}

TEST_CASE("a bad chunk size is 400") {
  http::request_parser<http::buffer_body, FieldAllocator> parser;
  boost::system::error_code error;
  const std::string head = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
  parser.put(boost::asio::buffer(head), error);
  REQUIRE(parser.is_header_done());
  char body[64];
  parser.get().body().data = body;
  parser.get().body().size = sizeof body;
  const std::string chunk = "zz\r\nabc\r\n0\r\n\r\n";
  parser.put(boost::asio::buffer(chunk), error);
  CHECK(error);
  CHECK(classify_request_parse_error(error, {}) == HttpError::BadRequest);
}

TEST_CASE("has_obs_fold and is_unsupported_version") {
  CHECK_FALSE(has_obs_fold("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  CHECK(has_obs_fold("GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n"));
  CHECK(is_unsupported_version("GET / HTTP/2.0\r\n"));
  CHECK_FALSE(is_unsupported_version("GET / HTTP/1.1\r\n"));
  CHECK_FALSE(is_unsupported_version("GET / HTTP/2.0"));  // incomplete line
}

// Framing decisions: every smuggling vector is refused before a pod sees it. Heads are
// parsed by Beast's request parser exactly as the session does.
#include "server/http_message/http_validation.hpp"

#include <doctest/doctest.h>

#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <optional>
#include <string>

#include "conf/model.hpp"

using namespace svcproxy::server;
namespace conf = svcproxy::conf;
namespace http = boost::beast::http;

namespace {

conf::Limits limits_with_header_bytes(std::uint32_t header_limit) {
  conf::Limits limits;
  limits.max_header_bytes = static_cast<int>(header_limit);
  return limits;
}

// The rejection the session answers `raw` with, or nullopt when the head is forwarded.
// Fed as the session feeds Beast: the request line check runs while nothing is parsed.
std::optional<Rejection> rejection(const std::string& raw, const conf::Limits& limits) {
  http::request_parser<http::buffer_body, FieldAllocator> parser;
  parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
  boost::system::error_code error;
  const std::size_t used = parser.put(boost::asio::buffer(raw), error);
  if (parser.is_header_done())
    return check_request_head(parser.get(), std::string_view(raw).substr(0, used), limits);
  if (error == http::error::need_more) {
    if (used == 0)
      return check_incomplete_request_line(raw,
                                           static_cast<std::size_t>(limits.max_request_line_bytes));
    return std::nullopt;
  }
  return classify_request_parse_error(error, raw);
}

// Just the status.
std::optional<HttpError> verdict(const std::string& raw, std::uint32_t header_limit = 8192) {
  const auto rejected = rejection(raw, limits_with_header_bytes(header_limit));
  if (!rejected) return std::nullopt;
  return rejected->status;
}

std::optional<RejectReason> reason(const std::string& raw, const conf::Limits& limits = {}) {
  const auto rejected = rejection(raw, limits);
  if (!rejected) return std::nullopt;
  return rejected->reason;
}

// A target of "/" and `n` letters. (Appended, not "/" + std::string(n, 'a'): GCC 12 at -O3
// reports a false -Wstringop-overflow on that.)
std::string long_path(std::size_t n) {
  std::string path(1, '/');
  path.append(n, 'a');
  return path;
}

std::string get(std::string_view target, std::string_view host = "a") {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: " + std::string(host) + "\r\n\r\n";
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
        HttpError::BadRequest);  // chunked not final: no telling where the body ends
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
  CHECK(verdict("GET /" + std::string(70000, 'a'), 65536) == HttpError::UriTooLong);
  CHECK(verdict("GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(10000, 'a'), 8192) ==
        HttpError::HeaderFieldsTooLarge);
}

TEST_CASE("a body over the limit is 413 from its Content-Length") {
  http::request_parser<http::buffer_body, FieldAllocator> parser;
  parser.body_limit(10);
  boost::system::error_code error;
  const std::string raw = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n";
  parser.put(boost::asio::buffer(raw), error);
  CHECK(classify_request_parse_error(error, raw) ==
        Rejection{HttpError::PayloadTooLarge, RejectReason::BodyTooLarge});
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
  CHECK(classify_request_parse_error(error, {}) ==
        Rejection{HttpError::BadRequest, RejectReason::BadChunk});
}

TEST_CASE("has_obs_fold and is_unsupported_version") {
  CHECK_FALSE(has_obs_fold("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  CHECK(has_obs_fold("GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n"));
  CHECK(is_unsupported_version("GET / HTTP/2.0\r\n"));
  CHECK_FALSE(is_unsupported_version("GET / HTTP/1.1\r\n"));
  CHECK_FALSE(is_unsupported_version("GET / HTTP/2.0"));  // incomplete line
}

TEST_CASE("the request line is bounded by maxRequestLineBytes, even before it ends") {
  conf::Limits limits;
  limits.max_request_line_bytes = 100;
  const std::string fits = long_path(100 - 14);  // "GET " + target + " HTTP/1.1": 100 bytes
  CHECK_FALSE(reason(get(fits), limits));
  CHECK(reason(get(fits + "a"), limits) == RejectReason::UriTooLong);
  // Still arriving: refused as soon as it is too long, whatever maxHeaderBytes says.
  CHECK(reason("GET " + long_path(200), limits) == RejectReason::UriTooLong);
  CHECK_FALSE(reason("GET " + long_path(90), limits));
  // The default is 8 KiB.
  CHECK(reason(get(long_path(9000))) == RejectReason::UriTooLong);
  CHECK(*verdict(get(long_path(9000)), 65536) == HttpError::UriTooLong);
}

TEST_CASE("more header fields than maxHeaderCount is 431") {
  conf::Limits limits;
  limits.max_header_count = 5;
  std::string head = "GET / HTTP/1.1\r\nHost: a\r\n";
  for (int i = 0; i < 4; ++i)
    head += "X-" + std::to_string(i) + ": v\r\n";
  CHECK_FALSE(reason(head + "\r\n", limits));
  CHECK(reason(head + "X-5: v\r\n\r\n", limits) == RejectReason::TooManyHeaders);
  CHECK(*rejection(head + "X-5: v\r\n\r\n", limits) ==
        Rejection{HttpError::HeaderFieldsTooLarge, RejectReason::TooManyHeaders});
}

TEST_CASE("CONNECT is 405: no tunnels") {
  CHECK(*rejection("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", {}) ==
        Rejection{HttpError::MethodNotAllowed, RejectReason::MethodNotAllowed});
}

TEST_CASE("request targets: origin-form, absolute-form agreeing with Host, * for OPTIONS") {
  CHECK_FALSE(reason(get("/a/b?c=d")));
  CHECK_FALSE(reason(get("http://a/x")));
  CHECK_FALSE(reason(get("HTTP://A:80/x", "a")));  // scheme and host compare without case
  CHECK_FALSE(reason(get("http://a:80/x", "a")));  // the default port
  CHECK_FALSE(reason(get("https://a/x", "a:443")));
  CHECK_FALSE(reason(get("http://a?q", "a")));
  CHECK_FALSE(reason("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"));
  CHECK(reason(get("http://other/x")) == RejectReason::BadTarget);
  CHECK(reason(get("http://a:81/", "a:80")) == RejectReason::BadTarget);
  CHECK(reason(get("http://a/", "a:8080")) == RejectReason::BadTarget);
  CHECK(reason(get("http://user@a/")) == RejectReason::BadTarget);
  CHECK(reason(get("ftp://a/")) == RejectReason::BadTarget);
  CHECK(reason(get("a/b")) == RejectReason::BadTarget);
  CHECK(reason(get("*")) == RejectReason::BadTarget);
  CHECK(reason(get("/a#frag")) == RejectReason::BadTarget);
  CHECK(reason(get("/a\tb")) == RejectReason::BadTarget);
  CHECK(*verdict(get("/a#frag")) == HttpError::BadRequest);
}

TEST_CASE("Host: a reg-name, IPv4 or bracketed IPv6, with an optional port") {
  for (const char* good : {"a", "example.com:80", "10.0.0.1", "[::1]:8080", "[fe80::1]",
                           "a:", "my-svc.ns.svc.cluster.local", "xn--bcher-kva.example", "a%20b"}) {
    CAPTURE(good);
    CHECK(is_valid_host(good));
    CHECK_FALSE(reason(get("/", good)));
  }
  for (const char* bad : {"", "a b", "a@b", "[::1", "[::1]x", "[zz::1]", "a:b", "a:99999",
                          "a:123456", "a/b", ":80", "a%2", "a\"b"}) {
    CAPTURE(bad);
    CHECK_FALSE(is_valid_host(bad));
  }
  CHECK(reason(get("/", "a@b")) == RejectReason::BadHost);
  CHECK(reason(get("/", "a:99999")) == RejectReason::BadHost);
  CHECK(reason("GET / HTTP/1.1\r\nHost:\r\n\r\n") == RejectReason::BadHost);
  CHECK(reason("GET / HTTP/1.1\r\n\r\n") == RejectReason::BadHost);
}

TEST_CASE("every rejection names its reason") {
  CHECK(reason("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n") ==
        RejectReason::BadFraming);
  CHECK(reason("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n") ==
        RejectReason::BadFraming);
  CHECK(reason("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n") ==
        RejectReason::NotImplemented);
  CHECK(reason("GET / HTTP/1.1\r\nHost : a\r\n\r\n") == RejectReason::Malformed);
  CHECK(reason("GET / HTTP/1.2\r\nHost: a\r\n\r\n") == RejectReason::UnsupportedVersion);
  CHECK(std::string(to_string(RejectReason::ChunkLineTooLong)) == "chunk_line_too_long");
  CHECK(std::string(to_string(RejectReason::BodyTimeout)) == "body_timeout");
}

TEST_CASE("transfer codings: chunked once and last, nothing else") {
  CHECK_FALSE(check_transfer_codings("chunked"));
  CHECK_FALSE(check_transfer_codings(" Chunked "));
  const Rejection framing{HttpError::BadRequest, RejectReason::BadFraming};
  const Rejection unknown{HttpError::NotImplemented, RejectReason::NotImplemented};
  CHECK(check_transfer_codings("chunked, chunked") == framing);
  CHECK(check_transfer_codings("chunked,chunked") == framing);
  CHECK(check_transfer_codings("chunked, gzip") == framing);
  CHECK(check_transfer_codings("gzip, chunked, chunked") == framing);
  CHECK(check_transfer_codings("gzip, chunked") == unknown);
  CHECK(check_transfer_codings("gzip") == unknown);
  CHECK(check_transfer_codings("") == unknown);
  CHECK(check_transfer_codings(" , ") == unknown);
  CHECK(check_transfer_codings("chunked, ") == std::nullopt);  // an empty list element
}

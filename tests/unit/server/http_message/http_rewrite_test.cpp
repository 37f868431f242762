// Header rewriting, on heads parsed by Beast from raw text as the session receives them.
#include "server/http_message/http_rewrite.hpp"

#include <doctest/doctest.h>

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <string>

using namespace svcproxy::server;
namespace http = boost::beast::http;

namespace {

http::request<http::string_body, Fields> parse_request(const std::string& raw) {
  http::request_parser<http::string_body, FieldAllocator> parser;
  boost::system::error_code error;
  parser.put(boost::asio::buffer(raw), error);
  REQUIRE(parser.is_header_done());
  return parser.release();
}

std::string forwarded(const std::string& raw, BodyFraming framing = {}, bool upgrade = false,
                      bool drop_expect = false) {
  auto request = parse_request(raw);
  rewrite_request(request, {"10.0.0.9", "http", "127.96.0.10:80"}, framing, upgrade, drop_expect);
  std::string out;
  append_head(request, out);
  return out;
}

}  // namespace

TEST_CASE("hop-by-hop headers and those named in Connection are removed") {
  const std::string out = forwarded(
      "GET /x HTTP/1.1\r\nHost: web\r\nConnection: keep-alive, X-Secret\r\nKeep-Alive: 5\r\n"
      "Proxy-Connection: x\r\nTE: trailers\r\nTrailer: X-T\r\nUpgrade: h2c\r\nX-Secret: 1\r\n"
      "Accept: */*\r\n\r\n");
  CHECK(out.find("GET /x HTTP/1.1\r\n") == 0);
  for (const char* gone :
       {"Connection", "Keep-Alive", "Proxy-Connection", "TE:", "Trailer", "Upgrade", "X-Secret"})
    CHECK_MESSAGE(out.find(gone) == std::string::npos, gone);
  CHECK(out.find("Accept: */*\r\n") != std::string::npos);
  CHECK(out.find("Host: web\r\n") != std::string::npos);
}

TEST_CASE("Connection cannot remove Host") {
  const std::string out = forwarded("GET / HTTP/1.1\r\nHost: web\r\nConnection: Host\r\n\r\n");
  CHECK(out.find("Host: web\r\n") != std::string::npos);
}

TEST_CASE("X-Forwarded-For is appended, -Proto and -Host set") {
  CHECK(
      forwarded("GET / HTTP/1.1\r\nHost: web:8080\r\n\r\n").find("X-Forwarded-For: 10.0.0.9\r\n") !=
      std::string::npos);
  const std::string out = forwarded(
      "GET / HTTP/1.1\r\nHost: web:8080\r\nX-Forwarded-For: 1.1.1.1\r\nX-Forwarded-For: 2.2.2.2\r\n"
      "X-Forwarded-Proto: https\r\n\r\n");
  CHECK(out.find("X-Forwarded-For: 1.1.1.1, 2.2.2.2, 10.0.0.9\r\n") != std::string::npos);
  CHECK(out.find("X-Forwarded-Proto: http\r\n") != std::string::npos);
  CHECK(out.find("X-Forwarded-Host: web:8080\r\n") != std::string::npos);
}

TEST_CASE("HTTP/1.0 without Host gets the address it reached, and goes out as HTTP/1.1") {
  const std::string out = forwarded("GET / HTTP/1.0\r\n\r\n");
  CHECK(out.find("GET / HTTP/1.1\r\n") == 0);
  CHECK(out.find("Host: 127.96.0.10:80\r\n") != std::string::npos);
}

TEST_CASE("framing: one Content-Length, or chunked, or none") {
  const std::string length =
      forwarded("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n",
                {BodyFraming::Kind::Length, 5});
  CHECK(length.find("Content-Length: 5\r\n") != std::string::npos);
  CHECK(length.find("Content-Length: 5\r\n") == length.rfind("Content-Length"));
  const std::string chunked =
      forwarded("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
                {BodyFraming::Kind::Chunked, 0});
  CHECK(chunked.find("Transfer-Encoding: chunked\r\n") != std::string::npos);
  CHECK(chunked.find("Content-Length") == std::string::npos);
}

TEST_CASE("an upgrade keeps Upgrade and Connection: upgrade; Expect can be dropped") {
  const std::string raw =
      "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
      "Sec-WebSocket-Key: k\r\n\r\n";
  REQUIRE(wants_upgrade(parse_request(raw)));
  const std::string out = forwarded(raw, {}, true);
  CHECK(out.find("Upgrade: websocket\r\n") != std::string::npos);
  CHECK(out.find("Connection: upgrade\r\n") != std::string::npos);
  CHECK_FALSE(
      wants_upgrade(parse_request("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n")));
  const std::string expect =
      forwarded("PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n",
                {BodyFraming::Kind::Length, 3}, false, true);
  CHECK(expect.find("Expect") == std::string::npos);
}

TEST_CASE("Proxy-*, HTTP2-Settings and names with underscores never reach a pod") {
  const std::string raw =
      "GET / HTTP/1.1\r\nHost: a\r\nProxy-Authorization: Basic x\r\nproxy-connection: k\r\n"
      "Proxy: http://evil:3128\r\nProxy-Anything: y\r\nX_User: admin\r\n"
      "HTTP2-Settings: AAMAAABkAAQAAP__\r\nProxyish: kept\r\nX-User: me\r\n\r\n";
  const std::string out = forwarded(raw);
  for (const char* gone : {"Proxy-Authorization", "proxy-connection", "Proxy:", "Proxy-Anything",
                           "X_User", "HTTP2-Settings"})
    CHECK_MESSAGE(out.find(gone) == std::string::npos, gone);
  CHECK(out.find("Proxyish: kept\r\n") != std::string::npos);
  CHECK(out.find("X-User: me\r\n") != std::string::npos);

  auto request = parse_request(raw);
  rewrite_request(request, {"10.0.0.9", "http", "", true}, {}, false, false);
  std::string kept;
  append_head(request, kept);
  CHECK(kept.find("X_User: admin\r\n") != std::string::npos);
  CHECK(kept.find("Proxy-Authorization") == std::string::npos);
  CHECK(is_dropped_request_field("PROXY-AUTHORIZATION", true));
  CHECK_FALSE(is_dropped_request_field("Proxyish", false));
}

TEST_CASE("an h2c upgrade is never passed on; the request goes as HTTP/1.1") {
  const std::string h2c =
      "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
      "HTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n";
  CHECK_FALSE(wants_upgrade(parse_request(h2c)));
  CHECK_FALSE(wants_upgrade(parse_request(
      "GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket, H2C/1\r\n\r\n")));
  const std::string out = forwarded(h2c);
  for (const char* gone : {"Upgrade", "HTTP2-Settings", "Connection"})
    CHECK_MESSAGE(out.find(gone) == std::string::npos, gone);
}

TEST_CASE("responses: hop-by-hop removed, keep-alive and chunking decided by the proxy") {
  http::response<http::string_body, Fields> response;
  response.result(http::status::ok);
  response.set(http::field::connection, "keep-alive, X-Internal");
  response.set("X-Internal", "1");
  response.set(http::field::transfer_encoding, "chunked");
  response.set(http::field::server, "nginx");
  rewrite_response(response, {BodyFraming::Kind::Chunked, 0}, false, false, false);
  std::string out;
  append_head(response, out);
  CHECK(out.find("HTTP/1.1 200 OK\r\n") == 0);
  CHECK(out.find("X-Internal") == std::string::npos);
  CHECK(out.find("Connection: close\r\n") != std::string::npos);
  CHECK(out.find("Transfer-Encoding: chunked\r\n") != std::string::npos);
  CHECK(out.find("Server: nginx\r\n") != std::string::npos);

  http::response<http::string_body, Fields> to_http10;
  to_http10.result(http::status::not_found);
  to_http10.set(http::field::content_length, "0");
  rewrite_response(to_http10, {BodyFraming::Kind::Length, 0}, true, true, false);
  out.clear();
  append_head(to_http10, out);
  CHECK(out.find("HTTP/1.1 404 Not Found\r\n") == 0);
  CHECK(out.find("Connection: keep-alive\r\n") != std::string::npos);
}

TEST_CASE("idempotent methods") {
  CHECK(is_idempotent(http::verb::get));
  CHECK(is_idempotent(http::verb::put));
  CHECK(is_idempotent(http::verb::delete_));
  CHECK_FALSE(is_idempotent(http::verb::post));
  CHECK_FALSE(is_idempotent(http::verb::patch));
}

// append_forwarded_* are the hot path's one-pass versions of rewrite_* + append_head: the
// same bytes for every head, including the odd ones.
TEST_CASE("append_forwarded_request writes what rewrite_request and append_head write") {
  const std::string heads[] = {
      "GET /x HTTP/1.1\r\nHost: web\r\n\r\n",
      "GET / HTTP/1.0\r\n\r\n",
      "GET /x HTTP/1.1\r\nHost: web\r\nConnection: keep-alive, X-Secret\r\nKeep-Alive: 5\r\n"
      "Proxy-Connection: x\r\nTE: trailers\r\nTrailer: X-T\r\nUpgrade: h2c\r\nX-Secret: 1\r\n"
      "Accept: */*\r\n\r\n",
      "GET / HTTP/1.1\r\nX-Forwarded-For: 1.1.1.1\r\nhost: a\r\nx-forwarded-for: 2.2.2.2\r\n"
      "X-Forwarded-Proto: https\r\nX-Forwarded-Host: evil\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 1.1.1.1\r\nX-Forwarded-For: 3.3.3.3\r\n"
      "Accept: */*\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nConnection: X-Forwarded-For, host\r\n"
      "X-Forwarded-For: 1.1.1.1\r\n\r\n",
      "GET / HTTP/1.0\r\nX-Forwarded-Host: kept\r\n\r\n",
      "POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n",
      "POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n\r\n",
      "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, X-B\r\nUpgrade: websocket\r\n"
      "X-B: 1\r\nSec-WebSocket-Key: k\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nProxy-Authorization: Basic x\r\nX_User: u\r\n"
      "HTTP2-Settings: AAMAAABkAAQAAP__\r\nProxy: http://evil\r\nX-Keep: 1\r\n\r\n",
  };
  const BodyFraming framings[] = {
      {}, {BodyFraming::Kind::Length, 5}, {BodyFraming::Kind::Chunked, 0}};
  for (const std::string& raw : heads) {
    for (const BodyFraming& framing : framings) {
      for (const bool upgrade : {false, true}) {
        for (const bool drop_expect : {false, true}) {
          for (const std::string_view default_host : {"127.96.0.10:80", ""}) {
            for (const bool underscores : {false, true}) {
              CAPTURE(raw);
              const ForwardedContext context{"10.0.0.9", "http", default_host, underscores};
              auto request = parse_request(raw);
              std::string one_pass;
              append_forwarded_request(request, context, framing, upgrade, drop_expect, one_pass);
              rewrite_request(request, context, framing, upgrade, drop_expect);
              std::string expected;
              append_head(request, expected);
              CHECK(one_pass == expected);
            }
          }
        }
      }
    }
  }
}

TEST_CASE("append_forwarded_response writes what rewrite_response and append_head write") {
  const std::string heads[] = {
      "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close, X-Secret\r\n"
      "X-Secret: 1\r\nKeep-Alive: timeout=5\r\nTrailer: X-T\r\n\r\n",
      "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
      "HTTP/1.0 404 \r\nContent-Length: 0\r\n\r\n",
      // A Connection header in two lines, names in odd case, obs-text. (Same-name fields
      // stay together: Beast's container groups them, the forwarded head keeps wire order.)
      "HTTP/1.1 200 Fine\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nconnection: X-A\r\n"
      "CONNECTION: keep-alive, x-b\r\nVary: x\r\nX-A: 1\r\nx-B: 2\r\n"
      "X-Text: caf\xc3\xa9\r\nContent-Length: 5\r\n\r\n",
      "HTTP/1.1 204 No Content\r\nTE: trailers\r\nProxy-Connection: close\r\n"
      "Upgrade: h2c\r\n\r\n",
  };
  FieldBlockPool blocks;
  FieldArena arena(blocks);
  for (const std::string& raw : heads) {
    // The reference: Beast's own message, rewritten in place and serialised.
    http::response_parser<http::string_body, FieldAllocator> parser;
    boost::system::error_code error;
    parser.put(boost::asio::buffer(raw), error);
    REQUIRE(parser.is_header_done());
    // What the proxy forwards from: its own parser over the same bytes.
    ResponseHeadParser head(arena);
    head.put(boost::asio::buffer(raw), error);
    REQUIRE(head.is_header_done());
    CHECK(head.result_int() == parser.get().result_int());
    if (!head.reason().empty()) CHECK(head.reason() == parser.get().reason());
    CHECK(head.version() == parser.get().version());
    CHECK(head.count(http::field::set_cookie) == parser.get().count(http::field::set_cookie));
    for (const BodyFraming to_client :
         {BodyFraming{}, BodyFraming{BodyFraming::Kind::Chunked, 0}}) {
      for (const bool keep_alive : {false, true}) {
        for (const bool http10 : {false, true}) {
          for (const bool upgrade : {false, true}) {
            CAPTURE(raw);
            auto response = parser.get();
            std::string one_pass;
            append_forwarded_response(head, to_client, keep_alive, http10, upgrade, one_pass);
            rewrite_response(response, to_client, keep_alive, http10, upgrade);
            std::string expected;
            append_head(response, expected);
            CHECK(one_pass == expected);
          }
        }
      }
    }
  }
}

TEST_CASE("a forwarded response keeps its fields in the order the pod sent them") {
  const std::string raw =
      "HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nVary: x\r\nSet-Cookie: b=2\r\n"
      "Content-Length: 0\r\n\r\n";
  FieldBlockPool blocks;
  FieldArena arena(blocks);
  ResponseHeadParser head(arena);
  boost::system::error_code error;
  head.put(boost::asio::buffer(raw), error);
  REQUIRE(head.is_header_done());
  std::string out;
  append_forwarded_response(head, {BodyFraming::Kind::Length, 0}, true, false, false, out);
  CHECK(out ==
        "HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nVary: x\r\nSet-Cookie: b=2\r\n"
        "Content-Length: 0\r\n\r\n");
}

TEST_CASE("a pod gets the target in origin-form") {
  const auto origin = [](std::string_view target) {
    std::string out;
    append_origin_form(target, out);
    return out;
  };
  CHECK(origin("/a/b?c=d") == "/a/b?c=d");
  CHECK(origin("*") == "*");
  CHECK(origin("http://web/a?b") == "/a?b");
  CHECK(origin("https://web:8443/a") == "/a");
  CHECK(origin("HTTP://web") == "/");
  CHECK(origin("http://web?x=1") == "/?x=1");
  CHECK(origin("http://[::1]:80/p") == "/p");
}

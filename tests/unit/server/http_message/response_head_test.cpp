#include "server/http_message/response_head.hpp"

#include <doctest/doctest.h>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <string>
#include <vector>

namespace svcproxy::server {
namespace {

namespace http = boost::beast::http;

struct Parsed {
  FieldBlockPool blocks;
  FieldArena arena{blocks};
  ResponseHeadParser head{arena};

  // Feeds `bytes` as read() would: whatever put() did not take stays for the next call.
  std::string pending;
  boost::system::error_code feed(const std::string& bytes) {
    pending += bytes;
    boost::system::error_code error;
    const std::size_t used = head.put(boost::asio::buffer(pending), error);
    pending.erase(0, used);
    return error;
  }
};

std::vector<std::string> fields_of(const ResponseHeadParser& head) {
  std::vector<std::string> out;
  for (const ResponseField field : head)
    out.push_back(std::string(field.name_string()) + "=" + std::string(field.value()));
  return out;
}

}  // namespace

TEST_CASE("a head that arrives in pieces is parsed whole, fields in order, names as sent") {
  Parsed p;
  CHECK(p.feed("HTTP/1.1 201 Created Here\r\nServer: ng") == http::error::need_more);
  CHECK(p.feed("inx\r\nset-cookie: a=1\r\nX-Empty:\r\nSet-Cookie:  b=2  \r\nContent-Len") ==
        http::error::need_more);
  CHECK_FALSE(p.feed("gth: 3\r\n\r\n"));
  REQUIRE(p.head.is_header_done());
  CHECK(p.head.result_int() == 201);
  CHECK(p.head.result() == http::status::created);
  CHECK(p.head.reason() == "Created Here");
  CHECK(p.head.version() == 11);
  CHECK(fields_of(p.head) == std::vector<std::string>{"Server=nginx", "set-cookie=a=1", "X-Empty=",
                                                      "Set-Cookie=b=2", "Content-Length=3"});
  CHECK(p.head.count(http::field::set_cookie) == 2);
  CHECK(p.head.count(http::field::transfer_encoding) == 0);
  CHECK(p.head.content_length().value_or(0) == 3);
  CHECK(p.head.keep_alive());
}

TEST_CASE("each field keeps the line it came on; a folded one gets a line of its own") {
  Parsed p;
  CHECK_FALSE(
      p.feed("HTTP/1.1 200 OK\r\nX-Tight:v\r\nX-Loose: \t v w \t\r\nX-Empty:\r\n"
             "X-Fold: one\r\n two\r\nX-Late:\r\n late\r\nContent-Length: 0\r\n\r\n"));
  std::vector<std::string> lines, values;
  for (const ResponseField field : p.head) {
    lines.emplace_back(field.line());
    values.emplace_back(field.value());
  }
  CHECK(lines == std::vector<std::string>{"X-Tight:v\r\n", "X-Loose: \t v w \t\r\n", "X-Empty:\r\n",
                                          "X-Fold: one two\r\n", "X-Late: late\r\n",
                                          "Content-Length: 0\r\n"});
  CHECK(values == std::vector<std::string>{"v", "v w", "", "one two", "late", "0"});
}

TEST_CASE("a folded value reads as Beast unfolds it") {
  const std::string raw =
      "HTTP/1.1 200 OK\r\nX-Folded: one\r\n two\r\nX-After: 3\r\nContent-Length: 0\r\n\r\n";
  Parsed p;
  const auto error = p.feed(raw);
  http::response_parser<http::string_body> beast;
  boost::system::error_code beast_error;
  beast.put(boost::asio::buffer(raw), beast_error);
  CHECK(error == beast_error);
  if (!error) {
    CHECK(fields_of(p.head)[0] == "X-Folded=" + std::string(beast.get()["X-Folded"]));
    CHECK(fields_of(p.head)[1] == "X-After=3");
  }
}

TEST_CASE("keep-alive and framing come from Beast's reading of the head") {
  SUBCASE("HTTP/1.0 without keep-alive") {
    Parsed p;
    CHECK_FALSE(p.feed("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"));
    CHECK_FALSE(p.head.keep_alive());
  }
  SUBCASE("Connection: close") {
    Parsed p;
    CHECK_FALSE(p.feed("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"));
    CHECK_FALSE(p.head.keep_alive());
  }
  SUBCASE("differing Content-Length values are an error") {
    Parsed p;
    CHECK(p.feed("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"));
  }
}

TEST_CASE("a chunked body is decoded into the body target, a target at a time") {
  Parsed p;
  CHECK_FALSE(p.feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"));
  REQUIRE(p.head.chunked());
  p.pending = "6;ext=1\r\nabcdef\r\n3\r\nghi\r\n0\r\nX-Trailer: t\r\n\r\n";
  // As the relay does: a 4-byte target, emptied after every put.
  std::string body;
  bool asked_for_more_room = false;
  for (int turn = 0; turn < 50 && !p.head.is_done(); ++turn) {
    char target[4];
    p.head.body() = {target, sizeof target};
    const auto error = p.feed("");
    body.append(target, sizeof target - p.head.body().size);
    asked_for_more_room |= error == http::error::need_buffer;
    REQUIRE((!error || error == http::error::need_buffer));
  }
  CHECK(p.head.is_done());
  CHECK(body == "abcdefghi");
  CHECK(asked_for_more_room);
  CHECK(p.pending.empty());
}

}  // namespace svcproxy::server

#include "server/http/field_arena.hpp"

#include <doctest/doctest.h>

#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <optional>
#include <string>
#include <tuple>

using namespace svcproxy::server;
namespace http = boost::beast::http;

namespace {

using Parser = http::response_parser<http::buffer_body, FieldAllocator>;

void start(std::optional<Parser>& parser, FieldArena& arena) {
  parser.emplace(std::piecewise_construct, std::make_tuple(),
                 std::make_tuple(FieldAllocator(&arena)));
}

void parse_head(Parser& parser, const std::string& raw) {
  boost::system::error_code error;
  parser.put(boost::asio::buffer(raw), error);
  REQUIRE(parser.is_header_done());
}

}  // namespace

TEST_CASE("fields of one exchange share a borrowed block, given back when the parser goes") {
  FieldBlockPool blocks;
  FieldArena arena(blocks);
  std::optional<Parser> parser;
  CHECK(blocks.lent() == 0);
  for (int exchange = 0; exchange < 3; ++exchange) {
    start(parser, arena);
    parse_head(*parser,
               "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: 2\r\n"
               "Content-Type: text/plain\r\nX-Pod: web-1\r\n\r\n");
    CHECK(blocks.lent() == 1);
    CHECK(parser->get()["X-Pod"] == "web-1");
    CHECK(parser->get().reason() == "OK");
    parser.reset();
    CHECK(blocks.lent() == 0);  // a keep-alive connection between requests holds nothing
  }
}

TEST_CASE("a field larger than a block is allocated apart and freed apart") {
  FieldBlockPool blocks;
  FieldArena arena(blocks);
  std::optional<Parser> parser;
  start(parser, arena);
  const std::string big(6000, 'v');
  parse_head(*parser,
             "HTTP/1.1 204 No Content\r\nX-Small: 1\r\nX-Big: " + big + "\r\nX-After: 2\r\n\r\n");
  CHECK(parser->get()["X-Big"] == big);
  CHECK(parser->get()["X-Small"] == "1");
  CHECK(parser->get()["X-After"] == "2");
  parser.reset();
  CHECK(blocks.lent() == 0);
}

TEST_CASE("fields without an arena use operator new") {
  Fields fields;
  fields.set("X-One", "1");
  fields.set(http::field::host, "web");
  CHECK(fields["X-One"] == "1");
  CHECK(fields[http::field::host] == "web");
}

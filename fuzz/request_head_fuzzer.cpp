// libFuzzer harness for the path a client's request head takes through the proxy
// (server/http/http_session.cpp's read_request_head, then a chunked body's framing): Beast's
// request parser with the proxy's field allocator and header limit, fed in pieces the
// way reads arrive; check_request_head on a complete head, classify_request_parse_error
// on a refused one; and, for a chunked request, ChunkedDecoder over the bytes after the
// head, also in pieces, with its documented invariants checked.
//
// Each input runs twice: with the default limits and with tight ones, so that every
// limit's refusal is reached by small inputs. Where the input is split is derived from
// its bytes, so a crash reproduces from the saved input alone.
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

#include "conf/model.hpp"
#include "fuzz/fuzz_check.hpp"
#include "server/http/field_arena.hpp"
#include "server/http_message/chunked_decoder.hpp"
#include "server/http_message/http_errors.hpp"
#include "server/http_message/http_validation.hpp"
#include "server/worker/buffer_pool.hpp"

namespace {

namespace http = boost::beast::http;
using namespace svcproxy;

// server/http/http_connection.hpp's RequestParser, spelled out here: that header brings Asio,
// lb/ and the worker with it.
using RequestParser = http::request_parser<http::buffer_body, server::FieldAllocator>;

// Split positions from the input's own bytes (FNV-1a seeds a splitmix64 stream).
class Splits {
 public:
  explicit Splits(std::string_view data) {
    std::uint64_t hash = 0xcbf29ce484222325ull;
    for (const char c : data)
      hash = (hash ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
    state_ = hash;
  }
  // The length of the next piece: mostly small (split heads, split CRLFs), now and then
  // everything that is left.
  std::size_t next(std::size_t left) {
    const std::uint64_t r = random();
    if (left == 0) return 0;
    if (r % 8 == 0) return left;
    return 1 + static_cast<std::size_t>((r >> 8) % std::min<std::size_t>(left, 64));
  }

 private:
  std::uint64_t random() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  std::uint64_t state_;
};

bool is_refusal_status(server::HttpError status) {
  const int code = server::status_code(status);
  return code >= 400 && code < 600;
}

void check_rejection(const server::Rejection& rejection) {
  FUZZ_CHECK(is_refusal_status(rejection.status));
  FUZZ_CHECK(server::to_string(rejection.reason) != nullptr);
}

// The body of a chunked request, as server/http/http_forward.cpp hands it to the decoder.
void decode_chunked(std::string_view body, const conf::Limits& limits, Splits& splits) {
  server::ChunkedDecoder::Limits decoder_limits;
  decoder_limits.max_line_bytes = static_cast<std::size_t>(limits.max_chunk_line_bytes);
  decoder_limits.max_trailer_bytes = static_cast<std::size_t>(limits.max_header_bytes);
  decoder_limits.max_trailer_count = static_cast<std::size_t>(limits.max_header_count);
  decoder_limits.max_body_bytes = static_cast<std::uint64_t>(limits.max_body_bytes);
  server::ChunkedDecoder decoder(decoder_limits);

  std::uint64_t forwarded = 0;
  std::size_t offset = 0;
  while (offset < body.size()) {
    // One read's worth: the decoder is called until it has used all of it.
    std::string_view input = body.substr(offset, splits.next(body.size() - offset));
    offset += input.size();
    while (!input.empty()) {
      const server::ChunkedDecoder::Piece piece = decoder.next(input);
      FUZZ_CHECK(piece.consumed <= input.size());
      if (!piece.data.empty()) {
        FUZZ_CHECK(piece.data.data() >= input.data());
        FUZZ_CHECK(piece.data.data() + piece.data.size() <= input.data() + piece.consumed);
      }
      forwarded += piece.data.size();
      FUZZ_CHECK(decoder.body_bytes() == forwarded);
      if (decoder_limits.max_body_bytes > 0)
        FUZZ_CHECK(decoder.body_bytes() <= decoder_limits.max_body_bytes);
      if (piece.status == server::ChunkedDecoder::Status::Failed) {
        const int status = server::status_code(decoder.rejection().status);
        FUZZ_CHECK(status == 400 || status == 413 || status == 431);
        FUZZ_CHECK(!decoder.done());
        return;
      }
      if (piece.status == server::ChunkedDecoder::Status::Done) {
        FUZZ_CHECK(decoder.done());
        return;  // what follows is the next request's
      }
      // NeedMore without data means the input is used up; anything else is a loop.
      if (piece.data.empty()) FUZZ_CHECK(piece.consumed == input.size());
      FUZZ_CHECK(piece.consumed > 0);
      input.remove_prefix(piece.consumed);
    }
  }
  FUZZ_CHECK(!decoder.done());
}

// server/http/http_session.cpp's read_request_head, with reads replaced by the next piece.
void read_request(RequestParser& parser, std::string_view data, const conf::Limits& limits) {
  parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
  if (limits.max_body_bytes > 0)
    parser.body_limit(static_cast<std::uint64_t>(limits.max_body_bytes));
  else
    parser.body_limit(boost::none);

  Splits splits(data);
  std::size_t received = 0;  // bytes "read" so far, from the start of the request
  std::size_t parsed = 0;    // of those, what the parser has taken
  while (received < data.size()) {
    received += splits.next(data.size() - received);
    const std::string_view buffered = data.substr(0, received);
    boost::system::error_code error;
    const std::size_t used = parser.put(
        boost::asio::const_buffer(buffered.data() + parsed, buffered.size() - parsed), error);
    FUZZ_CHECK(used <= buffered.size() - parsed);
    parsed += used;
    if (parser.is_header_done()) {
      FUZZ_CHECK(!error || error == http::error::need_more);
      const auto rejected =
          server::check_request_head(parser.get(), buffered.substr(0, parsed), limits);
      if (rejected) {
        check_rejection(*rejected);
        return;
      }
      if (parser.chunked()) decode_chunked(data.substr(parsed), limits, splits);
      return;
    }
    if (error && error != http::error::need_more) {
      check_rejection(server::classify_request_parse_error(error, buffered));
      return;
    }
    if (buffered.find('\n') == std::string_view::npos) {
      const auto too_long = server::check_incomplete_request_line(
          buffered, static_cast<std::size_t>(limits.max_request_line_bytes));
      if (too_long) {
        check_rejection(*too_long);
        return;
      }
    }
  }
}

void parse_request(std::string_view data, const conf::Limits& limits) {
  server::FieldBlockPool blocks;
  server::FieldArena arena(blocks);
  {
    RequestParser parser(std::piecewise_construct, std::make_tuple(),
                         std::make_tuple(server::FieldAllocator(&arena)));
    read_request(parser, data, limits);
  }
  FUZZ_CHECK(blocks.lent() == 0);  // the parser gone, its fields' block is back in the pool
}

conf::Limits tight_limits() {
  conf::Limits limits;
  limits.max_header_bytes = 256;
  limits.max_body_bytes = 64;
  limits.max_request_line_bytes = 64;
  limits.max_header_count = 4;
  limits.max_chunk_line_bytes = 16;
  return limits;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  const std::string data(reinterpret_cast<const char*>(bytes), size);
  static const conf::Limits defaults{};
  static const conf::Limits tight = tight_limits();
  parse_request(data, defaults);
  parse_request(data, tight);
  return 0;
}

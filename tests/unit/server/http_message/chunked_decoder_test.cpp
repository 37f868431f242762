// Chunked request bodies: strict framing, bounded lines, and data handed out as views of
// the input, whatever the split of the input into reads.
#include "server/http_message/chunked_decoder.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace svcproxy::server;
using Status = ChunkedDecoder::Status;

namespace {

struct Decoded {
  std::string data;
  Status status = Status::NeedMore;
  Rejection rejection;
  std::size_t consumed = 0;  // of the input, when Done: where the next request starts
};

// Feeds `wire` in pieces of `step` bytes, as reads would bring it.
Decoded decode(const std::string& wire, std::size_t step = 1 << 20,
               ChunkedDecoder::Limits limits = {}) {
  ChunkedDecoder decoder(limits);
  Decoded out;
  std::size_t offset = 0;
  std::string pending;  // bytes of the current read not yet consumed
  while (out.status == Status::NeedMore) {
    if (offset >= wire.size() && pending.empty()) break;
    const std::size_t take = std::min(step, wire.size() - offset);
    pending += wire.substr(offset, take);
    offset += take;
    std::string_view input(pending);
    for (;;) {
      const ChunkedDecoder::Piece piece = decoder.next(input);
      REQUIRE(piece.consumed <= input.size());
      if (!piece.data.empty()) {
        REQUIRE(piece.data.data() >= input.data());
        REQUIRE(piece.data.data() + piece.data.size() <= input.data() + piece.consumed);
      }
      out.data += piece.data;
      out.consumed += piece.consumed;
      input.remove_prefix(piece.consumed);
      out.status = piece.status;
      if (piece.status != Status::NeedMore || piece.data.empty()) break;
    }
    // Framing is consumed as it arrives: nothing is left for the next read to complete.
    if (out.status == Status::NeedMore) CHECK(input.empty());
    pending = std::string(input);
    if (take == 0) break;
  }
  if (out.status == Status::Failed) out.rejection = decoder.rejection();
  return out;
}

Rejection bad_chunk{HttpError::BadRequest, RejectReason::BadChunk};

}  // namespace

TEST_CASE("chunks decode to their data, split anywhere") {
  const std::string wire = "5\r\nhello\r\n6;name=value;x\r\n world\r\nA\r\n0123456789\r\n0\r\n\r\n";
  for (std::size_t step : {1u, 2u, 3u, 7u, 1000u}) {
    CAPTURE(step);
    const Decoded out = decode(wire, step);
    CHECK(out.status == Status::Done);
    CHECK(out.data == "hello world0123456789");
    CHECK(out.consumed == wire.size());
  }
}

TEST_CASE("the body ends at the last chunk: what follows is the next request's") {
  const std::string wire = "3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\n";
  const Decoded out = decode(wire);
  CHECK(out.status == Status::Done);
  CHECK(out.consumed == wire.find("GET"));
}

TEST_CASE("trailers are read, bounded and dropped") {
  const Decoded out = decode("1\r\na\r\n0\r\nX-Sum: 1\r\nX-Other: 2\r\n\r\n");
  CHECK(out.status == Status::Done);
  CHECK(out.data == "a");

  ChunkedDecoder::Limits two_fields;
  two_fields.max_trailer_count = 2;
  CHECK(decode("0\r\nA: 1\r\nB: 2\r\n\r\n", 1, two_fields).status == Status::Done);
  const Decoded many = decode("0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", 1, two_fields);
  CHECK(many.rejection ==
        Rejection{HttpError::HeaderFieldsTooLarge, RejectReason::TrailersTooLarge});

  ChunkedDecoder::Limits small;
  small.max_trailer_bytes = 16;
  const Decoded large = decode("0\r\nX: " + std::string(100, 'v') + "\r\n\r\n", 3, small);
  CHECK(large.rejection ==
        Rejection{HttpError::HeaderFieldsTooLarge, RejectReason::TrailersTooLarge});
  CHECK(decode("0\r\n folded\r\n\r\n").rejection == bad_chunk);
}

TEST_CASE("framing is strict: CRLF only, nothing before the size, hex only") {
  for (const char* wire : {
           "5\nhello\r\n0\r\n\r\n",          // bare LF after the size
           "5\r\nhello\n0\r\n\r\n",          // bare LF after the data
           "5\r\nhello\r\n0\r\n\n",          // bare LF ending the body
           "5\rhello\r\n0\r\n\r\n",          // bare CR
           " 5\r\nhello\r\n0\r\n\r\n",       // whitespace before the size
           "\t5\r\nhello\r\n0\r\n\r\n",      // ... a tab too
           "+5\r\nhello\r\n0\r\n\r\n",       // a sign
           "0x5\r\nhello\r\n0\r\n\r\n",      // a prefix
           "\r\n",                           // no size at all
           "5 \r\nhello\r\n0\r\n\r\n",       // whitespace not followed by an extension
           "5\r\nhelloX\r\n0\r\n\r\n",       // data longer than its size
           "5;a\x01\r\nhello\r\n0\r\n\r\n",  // a control character in an extension
           "0\r\nX: a\nY: b\r\n\r\n",        // a bare LF in the trailers
       }) {
    CAPTURE(wire);
    const Decoded out = decode(wire);
    CHECK(out.status == Status::Failed);
    CHECK(out.rejection == bad_chunk);
  }
  CHECK(decode("5 ;ext\r\nhello\r\n0\r\n\r\n").status == Status::Done);  // BWS before `;`
  CHECK(decode("00005\r\nhello\r\n0\r\n\r\n").data == "hello");
}

TEST_CASE("a size that overflows is refused, not wrapped") {
  CHECK(decode("1" + std::string(16, '0') + "\r\n").rejection == bad_chunk);
  CHECK(decode("fffffffffffffff\r\n").status == Status::NeedMore);  // 15 digits fit
}

TEST_CASE("a chunk-size line over max_line_bytes is 400 before its end arrives") {
  ChunkedDecoder::Limits limits;
  limits.max_line_bytes = 64;
  CHECK(decode("5;" + std::string(50, 'e') + "\r\nhello\r\n0\r\n\r\n", 7, limits).status ==
        Status::Done);
  // No CRLF ever comes: refused once the line passes the limit, with every byte consumed
  // as it arrived (decode() checks nothing is left over between reads).
  const Decoded out = decode("5;" + std::string(100000, 'e'), 4096, limits);
  CHECK(out.rejection == Rejection{HttpError::BadRequest, RejectReason::ChunkLineTooLong});
  CHECK(out.consumed <= 65);
}

TEST_CASE("the body limit is checked at each chunk size, before its data") {
  ChunkedDecoder::Limits limits;
  limits.max_body_bytes = 10;
  CHECK(decode("5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n", 3, limits).status == Status::Done);
  const Decoded out = decode("5\r\nhello\r\n6\r\nworld!\r\n0\r\n\r\n", 3, limits);
  CHECK(out.rejection == Rejection{HttpError::PayloadTooLarge, RejectReason::BodyTooLarge});
  CHECK(out.data == "hello");
}

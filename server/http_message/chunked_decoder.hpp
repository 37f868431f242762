// Strict, bounded decoding of a chunked request body (RFC 9112 7.1), byte by byte, so that
// what a pod receives has exactly one reading and no client can make the proxy buffer more
// than one read's worth of framing. Pure: no sockets, no allocation.
//
// Why not Beast's chunk parser: it needs a whole chunk-size line (extensions included) in
// one buffer before it says anything, so a 128 MiB extension was buffered whole, and it
// accepts a bare LF after the size while waiting for a CR that never comes. Here every
// framing byte is consumed as it arrives, and a line is counted, not kept.
//
// Rules: chunk-size is 1+ hex digits, nothing before it; `;` extensions (visible
// characters, SP, HTAB) may follow, after optional SP/HTAB; every line ends in CRLF (a
// bare CR or LF is an error); the size line, extensions included, is at most
// `max_line_bytes`; a chunk's data is followed by CRLF; trailer fields (kept to their
// count and bytes, then dropped, as RFC 9110 6.5.1 allows) end with an empty line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "server/http_message/http_errors.hpp"

namespace svcproxy::server {

class ChunkedDecoder {
 public:
  struct Limits {
    std::size_t max_line_bytes = 4096;      // a chunk-size line, extensions included
    std::size_t max_trailer_bytes = 65536;  // the whole trailer section
    std::size_t max_trailer_count = 100;    // trailer fields
    std::uint64_t max_body_bytes = 0;       // decoded data; 0: unlimited
  };

  enum class Status {
    NeedMore,  // every input byte consumed (or data returned); give more input
    Done,      // the last chunk and the trailers are through; bytes after it are not ours
    Failed,    // see rejection()
  };

  struct Piece {
    std::size_t consumed = 0;  // input bytes used, `data` included
    std::string_view data;     // body bytes to forward: a view into the input
    Status status = Status::NeedMore;
  };

  explicit ChunkedDecoder(Limits limits) : limits_(limits) {}

  // Consumes framing from the front of `input` up to the next data (returned as a view into
  // `input`, at most the rest of the current chunk), or to the end of the body, or to the
  // end of `input`. Call again with the input that is left; a Piece with no data and
  // NeedMore means `input` is used up.
  Piece next(std::string_view input);

  // Why decoding failed (valid after Status::Failed): 400 for bad framing or a chunk line
  // over the limit, 431 for trailers over theirs, 413 for a body over max_body_bytes.
  const Rejection& rejection() const { return rejection_; }
  std::uint64_t body_bytes() const { return body_bytes_; }
  bool done() const { return state_ == State::Done; }

 private:
  enum class State {
    SizeStart,     // the first hex digit of a chunk size
    Size,          // more hex digits
    SizeSpace,     // SP/HTAB after the size: only `;` may follow
    Extension,     // after `;`, up to CR
    SizeLf,        // LF after the size line's CR
    Data,          // `remaining_` bytes of data
    DataCr,        // CR after data
    DataLf,        // LF after data
    TrailerStart,  // a trailer field, or CR of the empty line ending the body
    Trailer,       // inside a trailer field, up to CR
    TrailerLf,     // LF after a trailer field's CR
    FinalLf,       // LF of the empty line
    Done,
    Failed,
  };

  Piece fail(std::size_t consumed, HttpError status, RejectReason reason);

  Limits limits_;
  State state_ = State::SizeStart;
  std::uint64_t remaining_ = 0;  // of the chunk being read (Size: the value so far)
  std::size_t line_bytes_ = 0;   // of the current size line
  std::size_t trailer_bytes_ = 0;
  std::size_t trailer_count_ = 0;
  std::uint64_t body_bytes_ = 0;
  Rejection rejection_{};
};

}  // namespace svcproxy::server

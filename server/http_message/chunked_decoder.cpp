#include "server/http_message/chunked_decoder.hpp"

#include <algorithm>
#include <limits>

namespace svcproxy::server {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Visible characters, SP and HTAB, and obs-text: what an extension or a trailer field may
// hold. CR, LF, NUL and the other controls may not appear inside a line.
bool line_char(char c) {
  const auto byte = static_cast<unsigned char>(c);
  return byte == '\t' || (byte >= 0x20 && byte != 0x7f);
}

constexpr std::uint64_t kMaxChunkSize = std::numeric_limits<std::uint64_t>::max() >> 4;

}  // namespace

ChunkedDecoder::Piece ChunkedDecoder::fail(std::size_t consumed, HttpError status,
                                           RejectReason reason) {
  state_ = State::Failed;
  rejection_ = {status, reason};
  return {consumed, {}, Status::Failed};
}

ChunkedDecoder::Piece ChunkedDecoder::next(std::string_view input) {
  std::size_t i = 0;
  const auto bad = [&] { return fail(i, HttpError::BadRequest, RejectReason::BadChunk); };
  while (i < input.size()) {
    const char c = input[i];
    switch (state_) {
      case State::SizeStart:
      case State::Size: {
        const int digit = hex_value(c);
        if (digit >= 0) {
          if (remaining_ > kMaxChunkSize) return bad();
          remaining_ = remaining_ * 16 + static_cast<unsigned>(digit);
          state_ = State::Size;
        } else if (state_ == State::SizeStart) {
          return bad();  // no digit at all, or whitespace before the size
        } else if (c == ';') {
          state_ = State::Extension;
        } else if (c == ' ' || c == '\t') {
          state_ = State::SizeSpace;
        } else if (c == '\r') {
          state_ = State::SizeLf;
        } else {
          return bad();
        }
        break;
      }
      case State::SizeSpace:
        if (c == ';') {
          state_ = State::Extension;
        } else if (c != ' ' && c != '\t') {
          return bad();
        }
        break;
      case State::Extension:
        if (c == '\r') {
          state_ = State::SizeLf;
        } else if (!line_char(c)) {
          return bad();
        }
        break;
      case State::SizeLf:
        if (c != '\n') return bad();
        if (limits_.max_body_bytes > 0 && remaining_ > limits_.max_body_bytes - body_bytes_)
          return fail(i, HttpError::PayloadTooLarge, RejectReason::BodyTooLarge);
        line_bytes_ = 0;
        state_ = remaining_ == 0 ? State::TrailerStart : State::Data;
        ++i;
        continue;  // the LF ends the line: not counted against the next one
      case State::Data: {
        const std::size_t take =
            static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, input.size() - i));
        remaining_ -= take;
        body_bytes_ += take;
        if (remaining_ == 0) state_ = State::DataCr;
        return {i + take, input.substr(i, take), Status::NeedMore};
      }
      case State::DataCr:
        if (c != '\r') return bad();
        state_ = State::DataLf;
        break;
      case State::DataLf:
        if (c != '\n') return bad();
        state_ = State::SizeStart;
        break;
      case State::TrailerStart:
        if (c == '\r') {
          state_ = State::FinalLf;
          break;
        }
        if (++trailer_count_ > limits_.max_trailer_count)
          return fail(i, HttpError::HeaderFieldsTooLarge, RejectReason::TrailersTooLarge);
        // A trailer field starts with a name: no whitespace (obs-fold) and no colon first.
        if (c == ' ' || c == '\t' || c == ':' || !line_char(c)) return bad();
        state_ = State::Trailer;
        break;
      case State::Trailer:
        if (c == '\r') {
          state_ = State::TrailerLf;
        } else if (!line_char(c)) {
          return bad();
        }
        break;
      case State::TrailerLf:
        if (c != '\n') return bad();
        state_ = State::TrailerStart;
        break;
      case State::FinalLf:
        if (c != '\n') return bad();
        state_ = State::Done;
        return {i + 1, {}, Status::Done};
      case State::Done:
        return {i, {}, Status::Done};
      case State::Failed:
        return {i, {}, Status::Failed};
    }
    // Every byte of a size line (extensions included) or of the trailers is counted.
    // (The CR is not: the limit is on the line without its CRLF, as maxRequestLineBytes.)
    if (state_ == State::Size || state_ == State::SizeSpace || state_ == State::Extension) {
      if (++line_bytes_ > limits_.max_line_bytes)
        return fail(i, HttpError::BadRequest, RejectReason::ChunkLineTooLong);
    } else if (state_ >= State::TrailerStart && state_ <= State::FinalLf) {
      if (++trailer_bytes_ > limits_.max_trailer_bytes)
        return fail(i, HttpError::HeaderFieldsTooLarge, RejectReason::TrailersTooLarge);
    }
    ++i;
  }
  if (state_ == State::Done) return {i, {}, Status::Done};
  if (state_ == State::Failed) return {i, {}, Status::Failed};
  return {i, {}, Status::NeedMore};
}

}  // namespace svcproxy::server

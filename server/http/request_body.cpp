#include "server/http/request_body.hpp"

#include <algorithm>

namespace svcproxy::server {

ChunkedDecoder::Limits chunked_limits(const conf::Limits& limits) {
  return {static_cast<std::size_t>(limits.max_chunk_line_bytes),
          static_cast<std::size_t>(limits.max_header_bytes),
          static_cast<std::size_t>(limits.max_header_count),
          static_cast<std::uint64_t>(std::max<std::int64_t>(limits.max_body_bytes, 0))};
}

std::string_view buffered_view(const boost::beast::flat_buffer& buffer) {
  const auto data = buffer.data();
  return {static_cast<const char*>(data.data()), data.size()};
}

std::optional<Rejection> check_buffered_chunks(ChunkedDecoder decoder, std::string_view input) {
  for (;;) {
    const ChunkedDecoder::Piece piece = decoder.next(input);
    input.remove_prefix(piece.consumed);
    if (piece.status == ChunkedDecoder::Status::Failed) return decoder.rejection();
    if (piece.status == ChunkedDecoder::Status::Done || piece.data.empty()) return std::nullopt;
  }
}

}  // namespace svcproxy::server

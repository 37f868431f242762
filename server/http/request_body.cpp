#include "server/http/request_body.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <charconv>
#include <span>

#include "server/net/drained_read.hpp"

// GCC 12 reports a false mismatched-new-delete on Asio's awaitable frames in this file.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace svcproxy::server {
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kBodyReadSize = 16 * 1024;
// Chunks of a request body decoded from one read go to the pod as one chunk of at most
// this many pieces, in one write.
constexpr std::size_t kChunkPieces = 16;
constexpr std::string_view kLastChunk = "0\r\n\r\n";

constexpr Rejection kBodyTimeout{HttpError::RequestTimeout, RejectReason::BodyTimeout};

// A failed read of request body bytes: our requestBody deadline, or the client went away.
SendResult body_read_failed(const HttpConnection& c) {
  if (c.deadline.fired() == Waiting::RequestBody) return {SendOutcome::BadBody, kBodyTimeout};
  return {SendOutcome::ClientFailed, {}};
}

}  // namespace

asio::awaitable<SendResult> stream_length_body(HttpConnection& c, tcp::socket& to,
                                               std::uint64_t remaining, std::uint64_t& received,
                                               const conf::Timeouts& timeouts) {
  // Bytes pass through as they are: the relay's larger buffers, half the system calls.
  auto buffer = c.resources.relay_buffers.lease();
  while (remaining > 0) {
    const std::size_t want =
        static_cast<std::size_t>(std::min<std::uint64_t>(remaining, RelayBufferPool::kSize));
    c.expect(Waiting::RequestBody, timeouts.request_body);
    auto [read_error, n] =
        co_await c.client.async_read_some(draining(asio::buffer(buffer.data(), want)), kNoThrow);
    if (read_error) co_return body_read_failed(c);
    c.expect(Waiting::Transfer, timeouts.idle);
    received += n;
    remaining -= n;
    auto [write_error, written] =
        co_await asio::async_write(to, asio::buffer(buffer.data(), n), kNoThrow);
    if (write_error) co_return SendResult{SendOutcome::UpstreamFailed, {}};
  }
  co_return SendResult{};
}

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

// The data of the chunks in one read, straight from the client buffer: one chunk header,
// up to kChunkPieces pieces, CRLF, and the last chunk when the body ends here.
asio::awaitable<SendResult> stream_chunked_body(HttpConnection& c, ChunkedDecoder& decoder,
                                                tcp::socket& to, std::uint64_t& received,
                                                const conf::Timeouts& timeouts) {
  using Status = ChunkedDecoder::Status;
  for (;;) {
    const std::string_view input = buffered_view(c.client_buffer);
    std::array<asio::const_buffer, kChunkPieces + 3> out;
    std::size_t count = 1;  // out[0]: the chunk header
    std::size_t consumed = 0;
    std::size_t data_bytes = 0;
    Status status = Status::NeedMore;
    while (count <= kChunkPieces) {
      const ChunkedDecoder::Piece piece = decoder.next(input.substr(consumed));
      consumed += piece.consumed;
      status = piece.status;
      if (!piece.data.empty()) {
        out[count++] = asio::buffer(piece.data.data(), piece.data.size());
        data_bytes += piece.data.size();
      }
      if (status != Status::NeedMore || piece.data.empty()) break;
    }
    if (status == Status::Failed) co_return SendResult{SendOutcome::BadBody, decoder.rejection()};
    char header[24];
    std::size_t first = 1;
    if (data_bytes > 0) {
      auto end = std::to_chars(header, header + 20, data_bytes, 16).ptr;
      *end++ = '\r';
      *end++ = '\n';
      out[0] = asio::buffer(header, static_cast<std::size_t>(end - header));
      out[count++] = asio::buffer("\r\n", 2);
      first = 0;
    }
    if (status == Status::Done) out[count++] = asio::buffer(kLastChunk);
    if (count > first) {
      const std::span<const asio::const_buffer> pieces(out.data() + first, count - first);
      auto [write_error, written] = co_await asio::async_write(to, pieces, kNoThrow);
      if (write_error) co_return SendResult{SendOutcome::UpstreamFailed, {}};
    }
    c.client_buffer.consume(consumed);
    received += consumed;
    if (status == Status::Done) co_return SendResult{};
    if (consumed < input.size()) continue;  // more pieces than one write takes
    c.expect(Waiting::RequestBody, timeouts.request_body);
    auto [read_error, n] = co_await c.client.async_read_some(
        draining(c.client_buffer.prepare(kBodyReadSize)), kNoThrow);
    if (read_error) co_return body_read_failed(c);
    c.client_buffer.commit(n);
    c.expect(Waiting::Transfer, timeouts.idle);
  }
}
}  // namespace svcproxy::server

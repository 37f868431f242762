// Moving a request body from the client to a pod, by its framing. A Content-Length body
// streams through as it is; a chunked body is decoded by ChunkedDecoder (strict framing,
// bounded lines, the body limit) and chunked again, so only well-formed framing reaches a
// pod. Every read of body bytes runs under timeouts.requestBody. Worker thread, one
// exchange of one HttpConnection.
#pragma once

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <charconv>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "conf/model.hpp"
#include "server/http/http_connection.hpp"
#include "server/http_message/chunked_decoder.hpp"
#include "server/http_message/http_errors.hpp"
#include "server/net/drained_read.hpp"

namespace svcproxy::server {

enum class SendOutcome { Sent, UpstreamFailed, ClientFailed, BadBody };

struct SendResult {
  SendOutcome outcome = SendOutcome::Sent;
  Rejection rejection;  // for BadBody
};

ChunkedDecoder::Limits chunked_limits(const conf::Limits& limits);

std::string_view buffered_view(const boost::beast::flat_buffer& buffer);

// Runs a copy of `decoder` over what is buffered: the rejection it would reach, if any.
// What the client sent with the head is checked before a pod is even picked, so a bad
// chunk there is answered with 400 and no pod sees any of the request.
std::optional<Rejection> check_buffered_chunks(ChunkedDecoder decoder, std::string_view input);

namespace request_body_detail {

inline constexpr auto kNoThrow = boost::asio::as_tuple(boost::asio::use_awaitable);
inline constexpr std::size_t kBodyReadSize = 16 * 1024;
// Chunks of a request body decoded from one read go to the pod as one chunk of at most
// this many pieces, in one write.
inline constexpr std::size_t kChunkPieces = 16;
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";

// A failed read of request body bytes: our requestBody deadline, or the client went away.
template <class Connection>
SendResult body_read_failed(const Connection& c) {
  if (c.deadline.fired() == Waiting::RequestBody)
    return {SendOutcome::BadBody, {HttpError::RequestTimeout, RejectReason::BodyTimeout}};
  return {SendOutcome::ClientFailed, {}};
}

}  // namespace request_body_detail

// Streams the rest (`remaining` bytes) of a Content-Length body to the pod; `received`
// counts the body bytes read from the client.
template <ByteStream Stream, class Upstream>
boost::asio::awaitable<SendResult> stream_length_body(BasicHttpConnection<Stream>& c, Upstream& to,
                                                      std::uint64_t remaining,
                                                      std::uint64_t& received,
                                                      const conf::Timeouts& timeouts) {
  // Bytes pass through as they are: the relay's larger buffers, half the system calls.
  auto buffer = c.resources.relay_buffers.lease();
  while (remaining > 0) {
    const std::size_t want =
        static_cast<std::size_t>(std::min<std::uint64_t>(remaining, RelayBufferPool::kSize));
    c.expect(Waiting::RequestBody, timeouts.request_body);
    auto [read_error, n] = co_await c.client.async_read_some(
        draining(boost::asio::buffer(buffer.data(), want)), request_body_detail::kNoThrow);
    if (read_error) co_return request_body_detail::body_read_failed(c);
    c.expect(Waiting::Transfer, timeouts.idle);
    received += n;
    remaining -= n;
    auto [write_error, written] = co_await boost::asio::async_write(
        to, boost::asio::buffer(buffer.data(), n), request_body_detail::kNoThrow);
    if (write_error) co_return SendResult{SendOutcome::UpstreamFailed, {}};
  }
  co_return SendResult{};
}

// Decodes the chunked body from the client buffer and socket and writes the chunks of
// each read to the pod as one chunk, up to the last chunk.
// The data of the chunks of one read go straight from the client buffer: one chunk
// header, up to request_body_detail::kChunkPieces pieces, CRLF, and the last chunk when the body
// ends here.
template <ByteStream Stream, class Upstream>
boost::asio::awaitable<SendResult> stream_chunked_body(BasicHttpConnection<Stream>& c,
                                                       ChunkedDecoder& decoder, Upstream& to,
                                                       std::uint64_t& received,
                                                       const conf::Timeouts& timeouts) {
  using Status = ChunkedDecoder::Status;
  for (;;) {
    const std::string_view input = buffered_view(c.client_buffer);
    std::array<boost::asio::const_buffer, request_body_detail::kChunkPieces + 3> out;
    std::size_t count = 1;  // out[0]: the chunk header
    std::size_t consumed = 0;
    std::size_t data_bytes = 0;
    Status status = Status::NeedMore;
    while (count <= request_body_detail::kChunkPieces) {
      const ChunkedDecoder::Piece piece = decoder.next(input.substr(consumed));
      consumed += piece.consumed;
      status = piece.status;
      if (!piece.data.empty()) {
        out[count++] = boost::asio::buffer(piece.data.data(), piece.data.size());
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
      out[0] = boost::asio::buffer(header, static_cast<std::size_t>(end - header));
      out[count++] = boost::asio::buffer("\r\n", 2);
      first = 0;
    }
    if (status == Status::Done) out[count++] = boost::asio::buffer(request_body_detail::kLastChunk);
    if (count > first) {
      const std::span<const boost::asio::const_buffer> pieces(out.data() + first, count - first);
      auto [write_error, written] =
          co_await boost::asio::async_write(to, pieces, request_body_detail::kNoThrow);
      if (write_error) co_return SendResult{SendOutcome::UpstreamFailed, {}};
    }
    c.client_buffer.consume(consumed);
    received += consumed;
    if (status == Status::Done) co_return SendResult{};
    if (consumed < input.size()) continue;  // more pieces than one write takes
    c.expect(Waiting::RequestBody, timeouts.request_body);
    auto [read_error, n] = co_await c.client.async_read_some(
        draining(c.client_buffer.prepare(request_body_detail::kBodyReadSize)),
        request_body_detail::kNoThrow);
    if (read_error) co_return request_body_detail::body_read_failed(c);
    c.client_buffer.commit(n);
    c.expect(Waiting::Transfer, timeouts.idle);
  }
}

}  // namespace svcproxy::server

// Moving a request body from the client to a pod, by its framing. A Content-Length body
// streams through as it is; a chunked body is decoded by ChunkedDecoder (strict framing,
// bounded lines, the body limit) and chunked again, so only well-formed framing reaches a
// pod. Every read of body bytes runs under timeouts.requestBody. Worker thread, one
// exchange of one HttpConnection.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <cstdint>
#include <optional>
#include <string_view>

#include "conf/model.hpp"
#include "server/http/http_connection.hpp"
#include "server/http/http_errors.hpp"
#include "server/http_message/chunked_decoder.hpp"

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

// Streams the rest (`remaining` bytes) of a Content-Length body to the pod; `received`
// counts the body bytes read from the client.
boost::asio::awaitable<SendResult> stream_length_body(HttpConnection& c,
                                                      boost::asio::ip::tcp::socket& to,
                                                      std::uint64_t remaining,
                                                      std::uint64_t& received,
                                                      const conf::Timeouts& timeouts);

// Decodes the chunked body from the client buffer and socket and writes the chunks of
// each read to the pod as one chunk, up to the last chunk.
boost::asio::awaitable<SendResult> stream_chunked_body(HttpConnection& c, ChunkedDecoder& decoder,
                                                       boost::asio::ip::tcp::socket& to,
                                                       std::uint64_t& received,
                                                       const conf::Timeouts& timeouts);

}  // namespace svcproxy::server

// Moving a response body from a pod to the client once its head went out, split by how the
// pod framed it: a long Content-Length body is spliced (splice(2) through a pipe, no copy
// through user space); a shorter one, or one delimited by the pod's close, is copied as it
// is in the relay's large buffers; a chunked one is parsed and chunked again (or sent
// until close to an HTTP/1.0 client). And the tunnel after a 101. Worker thread, one
// exchange of one HttpConnection.
#pragma once

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/error.hpp>
#include <charconv>
#include <cstdint>

#include "conf/model.hpp"
#include "server/http/http_connection.hpp"
#include "server/http/http_forward.hpp"
#include "server/http_message/http_rewrite.hpp"
#include "server/http_message/response_head.hpp"
#include "server/l4/tcp_relay.hpp"
#include "server/net/byte_stream.hpp"
#include "server/net/drained_read.hpp"
#include "server/net/splice_pipe.hpp"

namespace svcproxy::server {

enum class RelayOutcome { Done, UpstreamFailed, ClientFailed };

namespace response_body_detail {

inline constexpr auto kNoThrow = boost::asio::as_tuple(boost::asio::use_awaitable);
inline constexpr std::size_t kBodyReadSize = 16 * 1024;
// Response bodies at least this long (still to come after the head) are spliced.
inline constexpr std::uint64_t kSpliceFrom = 32 * 1024;
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";

template <class Stream>
boost::asio::awaitable<boost::system::error_code> write_chunk(Stream& to, const char* data,
                                                              std::size_t size) {
  char header[24];
  auto end = std::to_chars(header, header + 20, size, 16).ptr;
  *end++ = '\r';
  *end++ = '\n';
  const std::array<boost::asio::const_buffer, 3> pieces{boost::asio::buffer(header, end - header),
                                                        boost::asio::buffer(data, size),
                                                        boost::asio::buffer("\r\n", 2)};
  auto [error, written] = co_await boost::asio::async_write(to, pieces, kNoThrow);
  co_return error;
}

// Moves `remaining` bytes of a response body pod -> pipe -> client with splice(2): no copy
// through user space (see splice_pipe.hpp).
template <ByteStream Stream>
boost::asio::awaitable<RelayOutcome> splice_response_body(BasicHttpConnection<Stream>& c,
                                                          boost::asio::ip::tcp::socket& from,
                                                          SplicePipe& pipe, std::uint64_t remaining,
                                                          ForwardResult& result,
                                                          conf::Duration idle) {
  std::size_t in_pipe = 0;
  while (remaining > 0 || in_pipe > 0) {
    if (remaining > 0 && in_pipe < pipe.capacity()) {
      const auto most =
          static_cast<std::size_t>(std::min<std::uint64_t>(remaining, pipe.capacity() - in_pipe));
      auto [read_error, n] =
          co_await from.async_read_some(SpliceIntoPipe(pipe.write_fd(), most), kNoThrow);
      if (read_error || n == 0) co_return RelayOutcome::UpstreamFailed;
      in_pipe += n;
      remaining -= n;
      c.expect(Waiting::Transfer, idle);
    }
    auto [write_error, n] = co_await c.client.async_write_some(
        SpliceFromPipe(pipe.read_fd(), in_pipe, remaining > 0), kNoThrow);
    if (write_error || n == 0) co_return RelayOutcome::ClientFailed;
    in_pipe -= n;
    result.bytes_sent += n;
  }
  co_return RelayOutcome::Done;
}

// Length or until-close: bytes pass through as they are, in the relay's larger buffers
// (half the system calls of body buffers for a large response).
template <ByteStream Stream, class Upstream>
boost::asio::awaitable<RelayOutcome> copy_response_body(BasicHttpConnection<Stream>& c,
                                                        Upstream& from, const BodyFraming& from_pod,
                                                        std::uint64_t remaining,
                                                        ForwardResult& result,
                                                        conf::Duration idle) {
  auto buffer = c.resources.relay_buffers.lease();
  for (;;) {
    const std::size_t want =
        from_pod.kind == BodyFraming::Kind::Length
            ? static_cast<std::size_t>(std::min<std::uint64_t>(remaining, RelayBufferPool::kSize))
            : RelayBufferPool::kSize;
    auto [read_error, n] =
        co_await from.async_read_some(draining(boost::asio::buffer(buffer.data(), want)), kNoThrow);
    if (read_error == boost::asio::error::eof && from_pod.kind == BodyFraming::Kind::UntilClose)
      co_return RelayOutcome::Done;
    if (read_error) co_return RelayOutcome::UpstreamFailed;
    c.expect(Waiting::Transfer, idle);
    auto [write_error, written] = co_await boost::asio::async_write(
        c.client, boost::asio::buffer(buffer.data(), n), kNoThrow);
    result.bytes_sent += written;
    if (write_error) co_return RelayOutcome::ClientFailed;
    if (from_pod.kind == BodyFraming::Kind::Length && (remaining -= n) == 0)
      co_return RelayOutcome::Done;
  }
}

// Chunked from the pod: parsed on by the head's parser into body buffers, then chunked
// again to the client (or written as they are, until close, to an HTTP/1.0 client).
template <ByteStream Stream, class Upstream>
boost::asio::awaitable<RelayOutcome> rechunk_response_body(
    BasicHttpConnection<Stream>& c, ResponseHeadParser& parser, Upstream& from,
    const BodyFraming& to_client, ForwardResult& result, conf::Duration idle) {
  auto buffer = c.resources.body_buffers.lease();
  bool need_read = c.upstream_buffer.size() == 0;
  for (;;) {
    if (need_read) {
      auto [read_error, n] = co_await from.async_read_some(
          draining(c.upstream_buffer.prepare(kBodyReadSize)), kNoThrow);
      if (read_error) co_return RelayOutcome::UpstreamFailed;
      c.upstream_buffer.commit(n);
      c.expect(Waiting::Transfer, idle);
    }
    auto& body = parser.body();
    body.data = buffer.data();
    body.size = BodyBufferPool::kSize;
    boost::system::error_code error;
    c.upstream_buffer.consume(parser.put(c.upstream_buffer.data(), error));
    const std::size_t produced = BodyBufferPool::kSize - body.size;
    if (produced > 0) {
      boost::system::error_code write_error;
      if (to_client.kind == BodyFraming::Kind::Chunked) {
        write_error = co_await write_chunk(c.client, buffer.data(), produced);
      } else {
        auto [failure, written] = co_await boost::asio::async_write(
            c.client, boost::asio::buffer(buffer.data(), produced), kNoThrow);
        write_error = failure;
      }
      if (write_error) co_return RelayOutcome::ClientFailed;
      result.bytes_sent += produced;
    }
    if (parser.is_done()) {
      if (to_client.kind != BodyFraming::Kind::Chunked) co_return RelayOutcome::Done;
      auto [write_error, written] =
          co_await boost::asio::async_write(c.client, boost::asio::buffer(kLastChunk), kNoThrow);
      result.bytes_sent += written;
      co_return write_error ? RelayOutcome::ClientFailed : RelayOutcome::Done;
    }
    if (error && error != boost::beast::http::error::need_more &&
        error != boost::beast::http::error::need_buffer)
      co_return RelayOutcome::UpstreamFailed;
    need_read = error == boost::beast::http::error::need_more || c.upstream_buffer.size() == 0;
  }
}

// The tunnel where a side is not the socket itself (TLS): both directions copied
// through user space until both ends closed, each end's close passed on as a shutdown.
// Every transfer moves the connection's Transfer deadline on, so a tunnel idle for
// timeouts.idle is cancelled by the deadline watch (client and pod sockets alike).
template <class Connection, class From, class To>
boost::asio::awaitable<void> copy_until_close(Connection& c, From& from, To& to,
                                              std::uint64_t& moved, conf::Duration idle) {
  std::array<char, 16 * 1024> buffer;
  for (;;) {
    auto [read_error, n] = co_await from.async_read_some(boost::asio::buffer(buffer), kNoThrow);
    if (read_error) break;
    c.expect(Waiting::Transfer, idle);
    auto [write_error, written] =
        co_await boost::asio::async_write(to, boost::asio::buffer(buffer.data(), n), kNoThrow);
    moved += written;
    if (write_error) break;
  }
  boost::system::error_code ignored;
  lowest_socket(to).shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
}

template <ByteStream Stream, class Upstream>
boost::asio::awaitable<void> copy_both_ways(BasicHttpConnection<Stream>& c, Upstream& upstream,
                                            ForwardResult& result, conf::Duration idle) {
  using namespace boost::asio::experimental::awaitable_operators;
  c.expect(Waiting::Transfer, idle);
  co_await (copy_until_close(c, c.client, upstream, result.body_received, idle) &&
            copy_until_close(c, upstream, c.client, result.bytes_sent, idle));
}

}  // namespace response_body_detail

template <ByteStream Stream, class Upstream>
boost::asio::awaitable<RelayOutcome> relay_response_body(
    BasicHttpConnection<Stream>& c, ResponseHeadParser& parser, Upstream& from,
    const BodyFraming& from_pod, const BodyFraming& to_client, std::uint64_t remaining,
    ForwardResult& result, conf::Duration idle) {
  if (from_pod.kind == BodyFraming::Kind::None ||
      (from_pod.kind == BodyFraming::Kind::Length && remaining == 0))
    co_return RelayOutcome::Done;
  // splice(2) needs the sockets themselves
  if constexpr (is_plain_socket<Stream> && is_plain_socket<Upstream>) {
    if (splice_supported && from_pod.kind == BodyFraming::Kind::Length &&
        remaining >= response_body_detail::kSpliceFrom) {
      if (auto pipe = c.resources.pipes.take()) {
        const RelayOutcome outcome = co_await response_body_detail::splice_response_body(
            c, from, *pipe, remaining, result, idle);
        // A pipe that may still hold bytes is closed, never reused.
        if (outcome == RelayOutcome::Done) c.resources.pipes.give_back(std::move(pipe));
        co_return outcome;
      }
    }
  }
  if (from_pod.kind == BodyFraming::Kind::Chunked)
    co_return co_await response_body_detail::rechunk_response_body(c, parser, from, to_client,
                                                                   result, idle);
  co_return co_await response_body_detail::copy_response_body(c, from, from_pod, remaining, result,
                                                              idle);
}

// After the pod's 101: what each side already sent goes first, then bytes flow both ways
// until both ends close (the L4 relay).
template <ByteStream Stream, class Upstream>
boost::asio::awaitable<void> tunnel(BasicHttpConnection<Stream>& c, Upstream& upstream,
                                    ForwardResult& result, conf::Duration idle) {
  const std::array<boost::asio::const_buffer, 2> to_client{boost::asio::buffer(c.head),
                                                           c.upstream_buffer.data()};
  auto [client_error, sent] =
      co_await boost::asio::async_write(c.client, to_client, response_body_detail::kNoThrow);
  result.bytes_sent += sent;
  if (client_error) co_return;
  c.upstream_buffer.consume(c.upstream_buffer.size());
  if (c.client_buffer.size() > 0) {
    auto [upstream_error, written] = co_await boost::asio::async_write(
        upstream, c.client_buffer.data(), response_body_detail::kNoThrow);
    result.body_received += written;
    if (upstream_error) co_return;
    c.client_buffer.consume(c.client_buffer.size());
  }
  if constexpr (is_plain_socket<Stream> && is_plain_socket<Upstream>) {
    c.expect_nothing();  // the relay keeps its own idle timeout
    const RelayResult relayed =
        co_await relay(c.client, upstream, idle, {c.resources.relay_buffers, c.resources.pipes});
    result.body_received += relayed.client_to_upstream;
    result.bytes_sent += relayed.upstream_to_client;
  } else {
    co_await response_body_detail::copy_both_ways(c, upstream, result, idle);
  }
}
}  // namespace svcproxy::server

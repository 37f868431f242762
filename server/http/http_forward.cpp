#include "server/http/http_forward.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <charconv>
#include <optional>

#include "server/http_message/chunked_decoder.hpp"
#include "server/net/drained_read.hpp"
#include "server/net/eager_write.hpp"
#include "server/http_message/http_rewrite.hpp"
#include "server/http_message/http_validation.hpp"
#include "server/log/log.hpp"
#include "server/net/native_socket.hpp"
#include "server/upstream/retry_policy.hpp"
#include "server/net/splice_pipe.hpp"
#include "server/l4/tcp_relay.hpp"
#include "server/upstream/upstream_connect.hpp"
#include "server/worker/worker.hpp"

// GCC 12 reports a false mismatched-new-delete on Asio's awaitable frames in this file.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace svcproxy::server {
namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using Kind = BodyFraming::Kind;

namespace {

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kHeadReadSize = 16 * 1024;
// The first read of a response: a typical head fits, and many requests in flight at once
// do not leave 16 KiB each of freed (but resident) heap behind.
constexpr std::size_t kFirstResponseRead = 2 * 1024;
constexpr std::uint32_t kMaxResponseHead = 64 * 1024;
// Body bytes up to this size are copied after the head, so head and body go out in one
// send(2) of one buffer rather than a sendmsg(2) of two.
constexpr std::size_t kCoalesceBytes = 4 * 1024;
// Chunks of a request body decoded from one read go to the pod as one chunk of at most
// this many pieces, in one write.
constexpr std::size_t kChunkPieces = 16;
// Response bodies at least this long (still to come after the head) are spliced.
constexpr std::uint64_t kSpliceFrom = 32 * 1024;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr std::string_view kLastChunk = "0\r\n\r\n";

// The connection's response-head buffer for one exchange, given back to the worker at the
// end (bytes a pod sent beyond its response are never used for the next request anyway).
struct UpstreamBufferLoan {
  HttpConnection& c;
  explicit UpstreamBufferLoan(HttpConnection& connection) : c(connection) {
    if (c.upstream_buffer.capacity() == 0) c.upstream_buffer = c.resources.upstream_buffers.take();
  }
  ~UpstreamBufferLoan() { c.resources.upstream_buffers.give_back(std::move(c.upstream_buffer)); }
};

// Clears the connection's pointer to a socket that lives in this frame.
struct UpstreamWatch {
  HttpConnection& c;
  UpstreamWatch(HttpConnection& connection, tcp::socket& socket) : c(connection) {
    c.deadline.upstream = &socket;
  }
  ~UpstreamWatch() { c.deadline.upstream = nullptr; }
};

BodyFraming request_framing(const RequestParser& parser) {
  if (parser.chunked()) return {Kind::Chunked, 0};
  if (const auto length = parser.content_length()) return {Kind::Length, *length};
  return {};
}

BodyFraming response_framing(const ResponseHeadParser& parser) {
  if (parser.is_done()) return {};
  if (parser.chunked()) return {Kind::Chunked, 0};
  if (const auto length = parser.content_length()) return {Kind::Length, *length};
  return {Kind::UntilClose, 0};
}

asio::awaitable<boost::system::error_code> write_chunk(tcp::socket& to, const char* data,
                                                       std::size_t size) {
  char header[24];
  auto end = std::to_chars(header, header + 20, size, 16).ptr;
  *end++ = '\r';
  *end++ = '\n';
  const std::array<asio::const_buffer, 3> pieces{asio::buffer(header, end - header),
                                                 asio::buffer(data, size), asio::buffer("\r\n", 2)};
  auto [error, written] = co_await asio::async_write(to, pieces, kNoThrow);
  co_return error;
}

enum class SendOutcome { Sent, UpstreamFailed, ClientFailed, BadBody };

struct SendResult {
  SendOutcome outcome = SendOutcome::Sent;
  Rejection rejection;  // for BadBody
};

constexpr Rejection kBodyTimeout{HttpError::RequestTimeout, RejectReason::BodyTimeout};

// A failed read of request body bytes: our requestBody deadline, or the client went away.
SendResult body_read_failed(const HttpConnection& c) {
  if (c.deadline.fired == Waiting::RequestBody) return {SendOutcome::BadBody, kBodyTimeout};
  return {SendOutcome::ClientFailed, {}};
}

// Streams the rest of a Content-Length body from the client to the pod.
asio::awaitable<SendResult> stream_length_body(HttpConnection& c, tcp::socket& to,
                                               std::uint64_t remaining, ForwardResult& result,
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
    result.body_received += n;
    remaining -= n;
    auto [write_error, written] =
        co_await asio::async_write(to, asio::buffer(buffer.data(), n), kNoThrow);
    if (write_error) co_return SendResult{SendOutcome::UpstreamFailed, {}};
  }
  co_return SendResult{};
}

// A chunked body is decoded by ChunkedDecoder (strict framing, bounded lines, the body
// limit) and chunked again to the pod, so only well-formed framing reaches a pod. What the
// client sent with the head is checked before a pod is even picked: a bad chunk there is
// answered with 400 and no pod sees any of the request.
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

// Runs a copy of `decoder` over what is buffered: the rejection it would reach, if any.
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
                                                tcp::socket& to, ForwardResult& result,
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
    result.body_received += consumed;
    if (status == Status::Done) co_return SendResult{};
    if (consumed < input.size()) continue;  // more pieces than one write takes
    c.expect(Waiting::RequestBody, timeouts.request_body);
    auto [read_error, n] = co_await c.client.async_read_some(
        draining(c.client_buffer.prepare(kHeadReadSize)), kNoThrow);
    if (read_error) co_return body_read_failed(c);
    c.client_buffer.commit(n);
    c.expect(Waiting::Transfer, timeouts.idle);
  }
}

// Reads a response head into `parser`. Sets `any_bytes` once the pod sent something.
asio::awaitable<boost::system::error_code> read_response_head(HttpConnection& c, tcp::socket& from,
                                                              ResponseHeadParser& parser,
                                                              bool& any_bytes) {
  for (;;) {
    if (c.upstream_buffer.size() > 0) {
      boost::system::error_code error;
      // Consumed even on need_more: Beast takes a complete status line before the fields
      // are all there and must not be given it again.
      c.upstream_buffer.consume(parser.put(c.upstream_buffer.data(), error));
      if (parser.is_header_done()) co_return boost::system::error_code{};
      if (error != http::error::need_more) co_return error;
    }
    const std::size_t room = c.upstream_buffer.capacity() - c.upstream_buffer.size();
    const std::size_t want =
        std::max(room, c.upstream_buffer.size() == 0 ? kFirstResponseRead : kHeadReadSize);
    auto [error, n] =
        co_await from.async_read_some(draining(c.upstream_buffer.prepare(want)), kNoThrow);
    if (error) co_return error;
    c.upstream_buffer.commit(n);
    any_bytes = true;
  }
}

void prepare_response_parser(ResponseHeadParser& parser, bool head_request) {
  parser.header_limit(kMaxResponseHead);
  parser.body_limit(boost::none);
  if (head_request) parser.skip(true);
}

enum class RelayOutcome { Done, UpstreamFailed, ClientFailed };

// Moves `remaining` bytes of a response body pod -> pipe -> client with splice(2): no copy
// through user space (see splice_pipe.hpp).
asio::awaitable<RelayOutcome> splice_response_body(HttpConnection& c, tcp::socket& from,
                                                   SplicePipe& pipe, std::uint64_t remaining,
                                                   ForwardResult& result, conf::Duration idle) {
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

// Streams a response body from the pod to the client after its head went out.
asio::awaitable<RelayOutcome> relay_response_body(HttpConnection& c, ResponseHeadParser& parser,
                                                  tcp::socket& from, const BodyFraming& from_pod,
                                                  const BodyFraming& to_client,
                                                  std::uint64_t remaining, ForwardResult& result,
                                                  conf::Duration idle) {
  if (from_pod.kind == Kind::None || (from_pod.kind == Kind::Length && remaining == 0))
    co_return RelayOutcome::Done;
  if (splice_supported && from_pod.kind == Kind::Length && remaining >= kSpliceFrom) {
    if (auto pipe = c.resources.pipes.take()) {
      const RelayOutcome outcome =
          co_await splice_response_body(c, from, *pipe, remaining, result, idle);
      // A pipe that may still hold bytes is closed, never reused.
      if (outcome == RelayOutcome::Done) c.resources.pipes.give_back(std::move(pipe));
      co_return outcome;
    }
  }
  if (from_pod.kind != Kind::Chunked) {
    // Length or until-close: bytes pass through as they are, in the relay's larger buffers
    // (half the system calls of body buffers for a large response).
    auto buffer = c.resources.relay_buffers.lease();
    for (;;) {
      const std::size_t want =
          from_pod.kind == Kind::Length
              ? static_cast<std::size_t>(std::min<std::uint64_t>(remaining, RelayBufferPool::kSize))
              : RelayBufferPool::kSize;
      auto [read_error, n] =
          co_await from.async_read_some(draining(asio::buffer(buffer.data(), want)), kNoThrow);
      if (read_error == asio::error::eof && from_pod.kind == Kind::UntilClose)
        co_return RelayOutcome::Done;
      if (read_error) co_return RelayOutcome::UpstreamFailed;
      c.expect(Waiting::Transfer, idle);
      auto [write_error, written] =
          co_await asio::async_write(c.client, asio::buffer(buffer.data(), n), kNoThrow);
      result.bytes_sent += written;
      if (write_error) co_return RelayOutcome::ClientFailed;
      if (from_pod.kind == Kind::Length && (remaining -= n) == 0) co_return RelayOutcome::Done;
    }
  }
  auto buffer = c.resources.body_buffers.lease();
  bool need_read = c.upstream_buffer.size() == 0;
  for (;;) {
    if (need_read) {
      auto [read_error, n] = co_await from.async_read_some(
          draining(c.upstream_buffer.prepare(kHeadReadSize)), kNoThrow);
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
      if (to_client.kind == Kind::Chunked) {
        write_error = co_await write_chunk(c.client, buffer.data(), produced);
      } else {
        auto [failure, written] =
            co_await asio::async_write(c.client, asio::buffer(buffer.data(), produced), kNoThrow);
        write_error = failure;
      }
      if (write_error) co_return RelayOutcome::ClientFailed;
      result.bytes_sent += produced;
    }
    if (parser.is_done()) {
      if (to_client.kind != Kind::Chunked) co_return RelayOutcome::Done;
      auto [write_error, written] =
          co_await asio::async_write(c.client, asio::buffer(kLastChunk), kNoThrow);
      result.bytes_sent += written;
      co_return write_error ? RelayOutcome::ClientFailed : RelayOutcome::Done;
    }
    if (error && error != http::error::need_more && error != http::error::need_buffer)
      co_return RelayOutcome::UpstreamFailed;
    need_read = error == http::error::need_more || c.upstream_buffer.size() == 0;
  }
}

// After the pod's 101: what each side already sent goes first, then bytes flow both ways
// until both ends close (the L4 relay).
asio::awaitable<void> tunnel(HttpConnection& c, tcp::socket& upstream, ForwardResult& result,
                             conf::Duration idle) {
  const std::array<asio::const_buffer, 2> to_client{asio::buffer(c.head), c.upstream_buffer.data()};
  auto [client_error, sent] = co_await asio::async_write(c.client, to_client, kNoThrow);
  result.bytes_sent += sent;
  if (client_error) co_return;
  c.upstream_buffer.consume(c.upstream_buffer.size());
  if (c.client_buffer.size() > 0) {
    auto [upstream_error, written] =
        co_await asio::async_write(upstream, c.client_buffer.data(), kNoThrow);
    result.body_received += written;
    if (upstream_error) co_return;
    c.client_buffer.consume(c.client_buffer.size());
  }
  c.expect_nothing();  // the relay keeps its own idle timeout
  const RelayResult relayed =
      co_await relay(c.client, upstream, idle, {c.resources.relay_buffers, c.resources.pipes});
  result.body_received += relayed.client_to_upstream;
  result.bytes_sent += relayed.upstream_to_client;
}

// svcproxy refuses the request body itself (bad chunked framing, a limit, a stall): the
// client hears why, the connection closes, and a pod that saw part of it was reset.
asio::awaitable<void> reject_body(HttpConnection& c, ForwardResult& result, Rejection rejection) {
  result.status = status_code(rejection.status);
  result.error = to_string(rejection.reason);
  result.rejected = rejection.reason;
  result.keep_client = false;
  result.bytes_sent += co_await send_error(c, rejection.status, false);
  result.linger = true;
}

asio::awaitable<void> fail(HttpConnection& c, ForwardResult& result, UpstreamFailure failure,
                           bool keep_alive) {
  const HttpError error = to_http_error(failure);
  result.status = status_code(error);
  result.error = to_string(failure);
  result.keep_client = keep_alive && failure != UpstreamFailure::Timeout;
  result.bytes_sent += co_await send_error(c, error, result.keep_client);
  if (!result.keep_client) result.linger = true;
}

}  // namespace

asio::awaitable<ForwardResult> forward_request(HttpConnection& c, RequestParser& parser,
                                               const lb::Backend& backend,
                                               const conf::ProxySettings& settings,
                                               ServiceStats* stats) {
  ForwardResult result;
  UpstreamBufferLoan upstream_buffer(c);
  auto& request = parser.get();
  const auto& timeouts = settings.timeouts;
  const BodyFraming framing = request_framing(parser);
  const bool client_http10 = request.version() == 10;
  const bool client_keep_alive = request.keep_alive();
  const bool head_request = request.method() == http::verb::head;
  const bool upgrade = wants_upgrade(request);
  const bool idempotent = is_idempotent(request.method());
  const bool expect_continue = framing.has_body() && !client_http10 &&
                               boost::beast::iequals(request[http::field::expect], "100-continue");
  // A retry can send the body again only when it is already buffered whole.
  const std::size_t buffered_body = framing.kind == Kind::Length
                                        ? static_cast<std::size_t>(std::min<std::uint64_t>(
                                              framing.length, c.client_buffer.size()))
                                        : 0;
  const bool replayable =
      !framing.has_body() || (framing.kind == Kind::Length && buffered_body == framing.length);

  std::optional<ChunkedDecoder> chunked;
  if (framing.kind == Kind::Chunked) {
    chunked.emplace(chunked_limits(settings.limits));
    if (auto rejected = check_buffered_chunks(*chunked, buffered_view(c.client_buffer))) {
      co_await reject_body(c, result, *rejected);
      co_return result;
    }
  }

  const bool needs_host = request.count(http::field::host) == 0;
  c.head.clear();
  append_forwarded_request(
      request,
      {c.client_ip, "http", needs_host ? std::string_view(c.local_host()) : std::string_view(),
       settings.limits.allow_underscores_in_headers},
      framing, upgrade, expect_continue, c.head);

  UpstreamAttempts attempts(backend, c.client_ip, c.tried, stats);
  UpstreamLink up(c.client.get_executor());
  UpstreamWatch watch(c, up.socket);
  std::optional<ResponseHeadParser> response;
  Clock::time_point sent_at;
  for (int attempt = 1;; ++attempt) {
    c.expect(Waiting::UpstreamHead, timeouts.upstream_response);
    // A pooled connection may skip its liveness check only when a failure there could be
    // retried: a request that must not run twice gets a connection known to be open.
    if (auto failure = co_await attempts.connect(
            up, timeouts.connect, {&c.resources.upstream_pool, replayable && idempotent})) {
      // Without the body read, the connection cannot carry another request.
      co_await fail(c, result, *failure, client_keep_alive && replayable);
      c.client_buffer.consume(buffered_body);
      co_return result;
    }
    result.endpoint = up.endpoint().get();
    sent_at = Clock::now();
    c.expect(Waiting::Transfer, timeouts.idle);
    const std::array<asio::const_buffer, 2> head_and_body{
        asio::buffer(c.head), asio::buffer(c.client_buffer.data().data(), buffered_body)};
    // No body buffered: one buffer, so send(2) rather than sendmsg(2).
    const std::span<const asio::const_buffer> request_out(head_and_body.data(),
                                                          buffered_body == 0 ? 1 : 2);
    WriteProgress request_sent = send_now(up.socket, request_out);
    if (!finished(request_sent, request_out))
      request_sent = co_await write_rest(up.socket, request_out, request_sent);
    const boost::system::error_code write_error = request_sent.error;
    SendResult sent{write_error ? SendOutcome::UpstreamFailed : SendOutcome::Sent, {}};
    if (!write_error && !replayable) {
      c.client_buffer.consume(buffered_body);
      result.body_received += buffered_body;
      if (expect_continue) {
        auto [continue_error, n] =
            co_await asio::async_write(c.client, asio::buffer(kContinue), kNoThrow);
        result.bytes_sent += n;
        if (continue_error) sent.outcome = SendOutcome::ClientFailed;
      }
      if (sent.outcome == SendOutcome::Sent) {
        // Not a conditional expression: GCC 12 miscompiles co_await inside ?:.
        if (framing.kind == Kind::Chunked) {
          sent = co_await stream_chunked_body(c, *chunked, up.socket, result, timeouts);
        } else {
          sent = co_await stream_length_body(c, up.socket, framing.length - buffered_body, result,
                                             timeouts);
        }
      }
    }
    if (sent.outcome == SendOutcome::ClientFailed || sent.outcome == SendOutcome::BadBody) {
      // The pod must not take a truncated body for a complete one: reset, do not close.
      reset_connection(up.socket);
    }
    if (sent.outcome == SendOutcome::ClientFailed) {
      result.error = "client_reset";
      co_return result;  // nobody left to answer; the pod's connection is dropped
    }
    if (sent.outcome == SendOutcome::BadBody) {
      co_await reject_body(c, result, sent.rejection);
      co_return result;
    }

    bool any_bytes = false;
    boost::system::error_code error = write_error;
    if (sent.outcome == SendOutcome::Sent) {
      c.expect(Waiting::UpstreamHead, timeouts.upstream_response);
      response.emplace(c.field_arena);
      prepare_response_parser(*response, head_request);
      error = co_await read_response_head(c, up.socket, *response, any_bytes);
      // Interim responses (103 Early Hints, a 100 the pod sends anyway) go to the client as
      // they are; the final response follows on the same connection.
      while (!error && response->result_int() / 100 == 1 &&
             response->result() != http::status::switching_protocols) {
        std::string head;
        append_forwarded_response(*response, {}, true, false, false, head);
        if (!client_http10) {
          auto [interim_error, n] =
              co_await asio::async_write(c.client, asio::buffer(head), kNoThrow);
          result.bytes_sent += n;
          if (interim_error) co_return result;
        }
        response.emplace(c.field_arena);
        prepare_response_parser(*response, head_request);
        error = co_await read_response_head(c, up.socket, *response, any_bytes);
      }
      if (!error) break;
    }

    const bool timed_out = c.deadline.fired == Waiting::UpstreamHead;
    const UpstreamFailure failure = classify_upstream_error(error, timed_out);
    const lb::EndpointPtr failed_pod = up.endpoint();
    if (failure == UpstreamFailure::LocalResource)
      count_local_resource_error(classify_socket_error(error));
    log(LogLevel::Warn, "service ", backend.name(), ": ", failed_pod->address().pod_key(), " ",
        failed_pod->address().key(), (up.reused ? " (reused connection)" : ""), ": ",
        to_string(failure), error ? ": " + error.message() : std::string());
    // A pooled connection the pod closed while idle says nothing about the pod's health,
    // nor does svcproxy's own failure.
    if (!up.reused && failure == UpstreamFailure::Reset)
      attempts.report(*failed_pod, lb::Outcome::Reset);
    close_quietly(up.socket);
    up.guard.release();
    c.upstream_buffer.clear();
    const RetryDecision retry = retry_decision({.failure = failure,
                                                .idempotent = idempotent,
                                                .request_bytes_sent = request_sent.written,
                                                .body_in_hand = replayable,
                                                .response_started = any_bytes,
                                                .reused_connection = up.reused,
                                                .attempt = attempt});
    if (attempts.retry_after(failed_pod, retry)) {
      ++result.retries;
      continue;
    }
    co_await fail(c, result, failure, client_keep_alive && replayable && !timed_out);
    c.client_buffer.consume(replayable ? buffered_body : 0);
    co_return result;
  }

  // A complete response head from the pod.
  c.client_buffer.consume(replayable ? buffered_body : 0);
  if (replayable) result.body_received += buffered_body;
  result.upstream_duration = Clock::now() - sent_at;
  const ResponseHeadParser& head = *response;
  result.status = head.result_int();
  attempts.report(*up.endpoint(),
                  result.status >= 500 ? lb::Outcome::Http5xx : lb::Outcome::Success);
  const bool switching = head.result() == http::status::switching_protocols;
  if (switching && !upgrade) {
    co_await fail(c, result, UpstreamFailure::BadResponse, false);
    co_return result;
  }

  const BodyFraming from_pod = switching ? BodyFraming{} : response_framing(*response);
  BodyFraming to_client = from_pod;
  if (from_pod.kind == Kind::Chunked && client_http10) to_client = {Kind::UntilClose, 0};
  const bool upstream_reusable =
      !switching && response->keep_alive() && from_pod.kind != Kind::UntilClose;
  result.keep_client =
      !switching && client_keep_alive && !c.worker.draining() && to_client.kind != Kind::UntilClose;
  c.head.clear();
  append_forwarded_response(head, to_client, result.keep_client, client_http10, switching, c.head);

  if (switching) {
    co_await tunnel(c, up.socket, result, timeouts.idle);
    result.keep_client = false;
    co_return result;
  }

  // The head and whatever part of the body came with it, in one write.
  std::size_t leftover = 0;
  if (from_pod.kind == Kind::Length)
    leftover = static_cast<std::size_t>(
        std::min<std::uint64_t>(from_pod.length, c.upstream_buffer.size()));
  else if (from_pod.kind == Kind::UntilClose)
    leftover = c.upstream_buffer.size();
  c.expect(Waiting::Transfer, timeouts.idle);
  const char* const body = static_cast<const char*>(c.upstream_buffer.data().data());
  const bool coalesce = leftover <= kCoalesceBytes;
  if (coalesce) c.head.append(body, leftover);
  const std::array<asio::const_buffer, 2> head_and_body{asio::buffer(c.head),
                                                        asio::buffer(body, leftover)};
  const std::span<const asio::const_buffer> response_out(head_and_body.data(), coalesce ? 1 : 2);
  WriteProgress response_sent = send_now(c.client, response_out);
  if (!finished(response_sent, response_out))
    response_sent = co_await write_rest(c.client, response_out, response_sent);
  result.bytes_sent += response_sent.written;
  if (response_sent.error) {
    result.error = "client_reset";
    result.keep_client = false;
    co_return result;
  }
  c.upstream_buffer.consume(leftover);

  const RelayOutcome relayed =
      co_await relay_response_body(c, *response, up.socket, from_pod, to_client,
                                   from_pod.length - leftover, result, timeouts.idle);
  if (relayed != RelayOutcome::Done) {
    result.error = relayed == RelayOutcome::ClientFailed ? "client_reset" : "upstream_reset";
    result.keep_client = false;
    c.upstream_buffer.clear();
    co_return result;
  }
  if (upstream_reusable && c.upstream_buffer.size() == 0) {
    c.resources.upstream_pool.put(up.endpoint(), std::move(up.socket));
  }
  c.upstream_buffer.clear();
  co_return result;
}

}  // namespace svcproxy::server

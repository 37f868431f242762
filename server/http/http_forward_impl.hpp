// The definitions of forward_request, for every ByteStream it is instantiated with
// (http_forward.cpp: the plain TCP socket; a unit test: a layered stream).
#pragma once

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <charconv>
#include <optional>
#include <span>

#include "server/http/exchange_policy.hpp"
#include "server/http/http_forward.hpp"
#include "server/http/request_body.hpp"
#include "server/http/response_body.hpp"
#include "server/http_message/http_rewrite.hpp"
#include "server/http_message/http_validation.hpp"
#include "server/log/log.hpp"
#include "server/net/byte_stream.hpp"
#include "server/net/drained_read.hpp"
#include "server/net/eager_write.hpp"
#include "server/net/native_socket.hpp"
#include "server/upstream/retry_policy.hpp"
#include "server/upstream/upstream_connect.hpp"

namespace svcproxy::server {
namespace forward_detail {

inline constexpr auto kNoThrow = boost::asio::as_tuple(boost::asio::use_awaitable);
inline constexpr std::size_t kHeadReadSize = 16 * 1024;
// The first read of a response: a typical head fits, and many requests in flight at once
// do not leave 16 KiB each of freed (but resident) heap behind.
inline constexpr std::size_t kFirstResponseRead = 2 * 1024;
inline constexpr std::uint32_t kMaxResponseHead = 64 * 1024;
// Body bytes up to this size are copied after the head, so head and body go out in one
// send(2) of one buffer rather than a sendmsg(2) of two.
inline constexpr std::size_t kCoalesceBytes = 4 * 1024;
inline constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

// The connection's response-head buffer for one exchange, given back to the worker at the
// end (bytes a pod sent beyond its response are never used for the next request anyway).
template <ByteStream Stream>
struct UpstreamBufferLoan {
  BasicHttpConnection<Stream>& c;
  explicit UpstreamBufferLoan(BasicHttpConnection<Stream>& connection) : c(connection) {
    if (c.upstream_buffer.capacity() == 0) c.upstream_buffer = c.resources.upstream_buffers.take();
  }
  ~UpstreamBufferLoan() { c.resources.upstream_buffers.give_back(std::move(c.upstream_buffer)); }
};

// The connection's head string for one exchange, from the worker's pool.
template <ByteStream Stream>
struct HeadLoan {
  // Room for a typical forwarded head at once: grown from empty it took five allocations.
  static constexpr std::size_t kHeadReserve = 480;  // most forwarded heads: 200-450 bytes
  BasicHttpConnection<Stream>& c;
  explicit HeadLoan(BasicHttpConnection<Stream>& connection) : c(connection) {
    if (c.head.capacity() < kHeadReserve) c.head = c.resources.heads.take(kHeadReserve);
  }
  ~HeadLoan() { c.resources.heads.give_back(std::move(c.head)); }
};

// Clears the connection's pointer to a socket that lives in this frame.
template <ByteStream Stream>
struct UpstreamWatch {
  BasicHttpConnection<Stream>& c;
  UpstreamWatch(BasicHttpConnection<Stream>& connection, boost::asio::ip::tcp::socket& socket)
      : c(connection) {
    c.upstream = &socket;
  }
  ~UpstreamWatch() { c.upstream = nullptr; }
};

inline BodyFraming request_framing(const RequestParser& parser) {
  if (parser.chunked()) return {BodyFraming::Kind::Chunked, 0};
  if (const auto length = parser.content_length()) return {BodyFraming::Kind::Length, *length};
  return {};
}

inline BodyFraming response_framing(const ResponseHeadParser& parser) {
  if (parser.is_done()) return {};
  if (parser.chunked()) return {BodyFraming::Kind::Chunked, 0};
  if (const auto length = parser.content_length()) return {BodyFraming::Kind::Length, *length};
  return {BodyFraming::Kind::UntilClose, 0};
}

// Reads a response head into `parser`. Sets `any_bytes` once the pod sent something.
template <ByteStream Stream, class Upstream>
boost::asio::awaitable<boost::system::error_code> read_response_head(BasicHttpConnection<Stream>& c,
                                                                     Upstream& from,
                                                                     ResponseHeadParser& parser,
                                                                     bool& any_bytes) {
  for (;;) {
    if (c.upstream_buffer.size() > 0) {
      boost::system::error_code error;
      // Consumed even on need_more: Beast takes a complete status line before the fields
      // are all there and must not be given it again.
      c.upstream_buffer.consume(parser.put(c.upstream_buffer.data(), error));
      if (parser.is_header_done()) co_return boost::system::error_code{};
      if (error != boost::beast::http::error::need_more) co_return error;
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

inline void prepare_response_parser(ResponseHeadParser& parser, bool head_request) {
  parser.header_limit(kMaxResponseHead);
  parser.body_limit(boost::none);
  if (head_request) parser.skip(true);
}

// svcproxy refuses the request body itself (bad chunked framing, a limit, a stall): the
// client hears why, the connection closes, and a pod that saw part of it was reset.
template <ByteStream Stream>
boost::asio::awaitable<void> reject_body(BasicHttpConnection<Stream>& c, ForwardResult& result,
                                         Rejection rejection) {
  result.status = status_code(rejection.status);
  result.error = to_string(rejection.reason);
  result.rejected = rejection.reason;
  result.keep_client = false;
  result.bytes_sent += co_await send_error(c, rejection.status, false);
  result.linger = true;
}

template <ByteStream Stream>
boost::asio::awaitable<void> fail(BasicHttpConnection<Stream>& c, ForwardResult& result,
                                  UpstreamFailure failure, bool keep_alive) {
  const HttpError error = to_http_error(failure);
  result.status = status_code(error);
  result.error = to_string(failure);
  result.keep_client = keep_alive && failure != UpstreamFailure::Timeout;
  result.bytes_sent += co_await send_error(c, error, result.keep_client);
  if (!result.keep_client) result.linger = true;
}

// The head a pod gets, into c.head.
template <ByteStream Stream>
void serialize_request_head(BasicHttpConnection<Stream>& c, const RequestHead& request,
                            const RequestPlan& plan, const conf::Limits& limits) {
  const bool needs_host = request.count(boost::beast::http::field::host) == 0;
  c.head.clear();
  append_forwarded_request(request,
                           {c.client_ip, is_plain_socket<Stream> ? "http" : "https",
                            needs_host ? std::string_view(c.local_host()) : std::string_view(),
                            limits.allow_underscores_in_headers},
                           plan.framing, plan.upgrade, plan.expect_continue, c.head);
}

// The head and the buffered body of one attempt's request, in one write.
struct RequestOut {
  std::array<boost::asio::const_buffer, 2> pieces;
  // No body buffered: one buffer, so send(2) rather than sendmsg(2).
  std::span<const boost::asio::const_buffer> out() const {
    return {pieces.data(), pieces[1].size() == 0 ? 1u : 2u};
  }
};

template <ByteStream Stream>
RequestOut request_out(BasicHttpConnection<Stream>& c, const RequestPlan& plan) {
  return {{boost::asio::buffer(c.head),
           boost::asio::buffer(c.client_buffer.data().data(), plan.buffered_body)}};
}

// After the head went out, a body that is not replayable: the 100 Continue, then the rest
// of the body by its framing. (A replayable body went with the head and stays in the
// client buffer for a retry.)
template <ByteStream Stream, class Upstream>
boost::asio::awaitable<SendResult> send_streamed_body(BasicHttpConnection<Stream>& c,
                                                      const RequestPlan& plan,
                                                      std::optional<ChunkedDecoder>& chunked,
                                                      Upstream& to, ForwardResult& result,
                                                      const conf::Timeouts& timeouts) {
  c.client_buffer.consume(plan.buffered_body);
  result.body_received += plan.buffered_body;
  if (plan.expect_continue) {
    auto [error, n] =
        co_await boost::asio::async_write(c.client, boost::asio::buffer(kContinue), kNoThrow);
    result.bytes_sent += n;
    if (error) co_return SendResult{SendOutcome::ClientFailed, {}};
  }
  // Not a conditional expression: GCC 12 miscompiles co_await inside ?:.
  if (chunked)
    co_return co_await stream_chunked_body(c, *chunked, to, result.body_received, timeouts);
  co_return co_await stream_length_body(c, to, plan.framing.length - plan.buffered_body,
                                        result.body_received, timeouts);
}

// Reads the final response head into `response`. Interim responses (103 Early Hints, a
// 100 the pod sends anyway) go to the client as they are on the way; `client_gone` when
// writing one failed.
template <ByteStream Stream, class Upstream>
boost::asio::awaitable<boost::system::error_code> read_final_response_head(
    BasicHttpConnection<Stream>& c, Upstream& from, std::optional<ResponseHeadParser>& response,
    const RequestPlan& plan, bool& any_bytes, bool& client_gone, ForwardResult& result) {
  for (;;) {
    response.emplace(c.field_arena);
    prepare_response_parser(*response, plan.head_request);
    const auto error = co_await read_response_head(c, from, *response, any_bytes);
    if (error || response->result_int() / 100 != 1 ||
        response->result() == boost::beast::http::status::switching_protocols)
      co_return error;
    if (plan.client_http10) continue;  // no 1xx for HTTP/1.0
    std::string head;
    append_forwarded_response(*response, {}, true, false, false, head);
    auto [interim_error, n] =
        co_await boost::asio::async_write(c.client, boost::asio::buffer(head), kNoThrow);
    result.bytes_sent += n;
    if (interim_error) {
      client_gone = true;
      co_return interim_error;
    }
  }
}

struct AttemptFailure {
  boost::system::error_code error;
  bool timed_out = false;  // our upstreamResponse deadline
  std::uint64_t request_bytes_sent = 0;
  bool response_started = false;
  int attempt = 1;
};

// A failed attempt: logged, held against the pod when it is the pod's fault, the pod's
// connection closed; true when the retry policy allows another attempt (and `attempts`
// has its pod), false when the client is to get `failure`.
inline bool retry_failed_attempt(const lb::Backend& backend, UpstreamAttempts& attempts,
                                 UpstreamLink& up, const RequestPlan& plan, const AttemptFailure& f,
                                 UpstreamFailure& failure) {
  failure = classify_upstream_error(f.error, f.timed_out);
  const lb::EndpointPtr failed_pod = up.endpoint();
  if (failure == UpstreamFailure::LocalResource)
    count_local_resource_error(classify_socket_error(f.error));
  log(LogLevel::Warn, "service ", backend.name(), ": ", failed_pod->address().pod_key(), " ",
      failed_pod->address().key(), (up.reused ? " (reused connection)" : ""), ": ",
      to_string(failure), f.error ? ": " + f.error.message() : std::string());
  // A pooled connection the pod closed while idle says nothing about the pod's health,
  // nor does svcproxy's own failure.
  if (!up.reused && failure == UpstreamFailure::Reset)
    attempts.report(*failed_pod, lb::Outcome::Reset);
  close_quietly(up.socket);
  up.tls.reset();
  up.guard.release();
  const RetryDecision retry = retry_decision({.failure = failure,
                                              .idempotent = plan.idempotent,
                                              .request_bytes_sent = f.request_bytes_sent,
                                              .body_in_hand = plan.replayable,
                                              .response_started = f.response_started,
                                              .reused_connection = up.reused,
                                              .attempt = f.attempt});
  return attempts.retry_after(failed_pod, retry);
}

// A complete final response head from the pod: the head and whatever part of the body
// came with it in one write, then the body by its framing (or the tunnel after a 101);
// the pod's connection goes back to the pool when it can carry another request.
template <ByteStream Stream, class Upstream>
boost::asio::awaitable<void> deliver_response(BasicHttpConnection<Stream>& c,
                                              const RequestPlan& plan, ResponseHeadParser& head,
                                              UpstreamLink& up, Upstream& pod,
                                              UpstreamAttempts& attempts, ForwardResult& result,
                                              conf::Duration idle) {
  result.status = head.result_int();
  attempts.report(*up.endpoint(),
                  result.status >= 500 ? lb::Outcome::Http5xx : lb::Outcome::Success);
  const ResponsePlan out = plan_response(
      plan, {result.status, head.keep_alive(), response_framing(head)}, c.worker.draining());
  if (!out.accepted) {
    co_await fail(c, result, UpstreamFailure::BadResponse, false);
    co_return;
  }
  result.keep_client = out.keep_client;
  c.head.clear();
  append_forwarded_response(head, out.to_client, out.keep_client, plan.client_http10, out.switching,
                            c.head);
  if (out.switching) {
    co_await tunnel(c, pod, result, idle);
    result.keep_client = false;
    co_return;
  }

  std::size_t leftover = 0;
  if (out.from_pod.kind == BodyFraming::Kind::Length)
    leftover = static_cast<std::size_t>(
        std::min<std::uint64_t>(out.from_pod.length, c.upstream_buffer.size()));
  else if (out.from_pod.kind == BodyFraming::Kind::UntilClose)
    leftover = c.upstream_buffer.size();
  c.expect(Waiting::Transfer, idle);
  const char* const body = static_cast<const char*>(c.upstream_buffer.data().data());
  const bool coalesce = leftover <= kCoalesceBytes;
  if (coalesce) c.head.append(body, leftover);
  const std::array<boost::asio::const_buffer, 2> head_and_body{boost::asio::buffer(c.head),
                                                               boost::asio::buffer(body, leftover)};
  const std::span<const boost::asio::const_buffer> response_out(head_and_body.data(),
                                                                coalesce ? 1 : 2);
  WriteProgress response_sent = send_now(c.client, response_out);
  if (!finished(response_sent, response_out))
    response_sent = co_await write_rest(c.client, response_out, response_sent);
  result.bytes_sent += response_sent.written;
  if (response_sent.error) {
    result.error = "client_reset";
    result.keep_client = false;
    co_return;
  }
  c.upstream_buffer.consume(leftover);

  const bool body_follows =
      out.from_pod.kind != BodyFraming::Kind::None &&
      !(out.from_pod.kind == BodyFraming::Kind::Length && out.from_pod.length == leftover);
  // Not `body_follows ? co_await ... : Done`: GCC 12 miscompiles co_await inside ?:.
  RelayOutcome relayed = RelayOutcome::Done;
  if (body_follows)
    relayed = co_await relay_response_body(c, head, pod, out.from_pod, out.to_client,
                                           out.from_pod.length - leftover, result, idle);
  if (relayed != RelayOutcome::Done) {
    result.error = relayed == RelayOutcome::ClientFailed ? "client_reset" : "upstream_reset";
    result.keep_client = false;
    c.upstream_buffer.clear();
    co_return;
  }
  if (out.upstream_reusable && c.upstream_buffer.size() == 0)
    c.resources.upstream_pool.put(up.endpoint(), std::move(up.socket), std::move(up.tls));
  c.upstream_buffer.clear();
}

// Plain HTTP to the pods: one TlsUse for all, no shared_ptr copied per request.
inline const TlsUse kPlainUpstream{};

// The stream to the pod: its socket, or the TLS session over it on a backend-TLS port.
template <class Upstream>
Upstream& pod_stream(UpstreamLink& up) {
  if constexpr (is_plain_socket<Upstream>)
    return up.socket;
  else
    return up.tls->stream;
}

// forward_request over a plain or a TLS (`tls.config` set) connection to the pod.
template <ByteStream Stream, class Upstream>
boost::asio::awaitable<ForwardResult> forward_exchange(BasicHttpConnection<Stream>& c,
                                                       RequestParser& parser,
                                                       const lb::Backend& backend,
                                                       const conf::ProxySettings& settings,
                                                       ServiceStats* stats, const TlsUse& tls) {
  ForwardResult result;
  UpstreamBufferLoan upstream_buffer(c);
  HeadLoan head(c);
  const auto& request = parser.get();
  const auto& timeouts = settings.timeouts;
  const RequestPlan plan =
      // The parser's keep_alive() reads every Connection field; the message's, only the first.
      plan_request({request.method(), request.version(), parser.keep_alive(),
                    wants_upgrade(request), request[boost::beast::http::field::expect],
                    request_framing(parser), c.client_buffer.size()});
  std::optional<ChunkedDecoder> chunked;
  if (plan.framing.kind == BodyFraming::Kind::Chunked) {
    chunked.emplace(chunked_limits(settings.limits));
    if (auto rejected = check_buffered_chunks(*chunked, buffered_view(c.client_buffer))) {
      co_await reject_body(c, result, *rejected);
      co_return result;
    }
  }
  serialize_request_head(c, request, plan, settings.limits);

  UpstreamAttempts attempts(backend, c.client_ip, c.tried, stats);
  UpstreamLink up(c.client.get_executor());
  UpstreamWatch watch(c, up.socket);
  std::optional<ResponseHeadParser> response;
  std::chrono::steady_clock::time_point sent_at;
  for (int attempt = 1;; ++attempt) {
    c.expect(Waiting::UpstreamHead, timeouts.upstream_response);
    // A pooled connection may skip its liveness check only when a failure there could be
    // retried: a request that must not run twice gets a connection known to be open.
    if (auto failure = co_await attempts.connect(
            up, timeouts.connect, {&c.resources.upstream_pool, plan.replayable && plan.idempotent},
            tls)) {
      // Without the body read, the connection cannot carry another request.
      co_await fail(c, result, *failure, plan.client_keep_alive && plan.replayable);
      c.client_buffer.consume(plan.buffered_body);
      co_return result;
    }
    result.endpoint = up.endpoint().get();
    sent_at = std::chrono::steady_clock::now();
    c.expect(Waiting::Transfer, timeouts.idle);
    // The head goes out on this turn; only a full socket buffer or a streamed body waits.
    const RequestOut out = request_out(c, plan);
    Upstream& pod = pod_stream<Upstream>(up);
    WriteProgress head_sent = send_now(pod, out.out());
    if (!finished(head_sent, out.out())) head_sent = co_await write_rest(pod, out.out(), head_sent);
    SendResult sent{head_sent.error ? SendOutcome::UpstreamFailed : SendOutcome::Sent, {}};
    if (!head_sent.error && !plan.replayable)
      sent = co_await send_streamed_body(c, plan, chunked, pod, result, timeouts);
    if (sent.outcome == SendOutcome::ClientFailed || sent.outcome == SendOutcome::BadBody) {
      // The pod must not take a truncated body for a complete one: reset, do not close.
      reset_connection(up.socket);
      if (sent.outcome == SendOutcome::BadBody) {
        co_await reject_body(c, result, sent.rejection);
      } else {
        result.error = "client_reset";  // nobody left to answer
      }
      co_return result;
    }
    AttemptFailure failed{
        .error = head_sent.error, .request_bytes_sent = head_sent.written, .attempt = attempt};
    if (sent.outcome == SendOutcome::Sent) {
      c.expect(Waiting::UpstreamHead, timeouts.upstream_response);
      bool client_gone = false;
      failed.error = co_await read_final_response_head(
          c, pod, response, plan, failed.response_started, client_gone, result);
      if (client_gone) co_return result;
      if (!failed.error) break;
    }
    failed.timed_out = c.deadline.fired() == Waiting::UpstreamHead;
    c.upstream_buffer.clear();
    UpstreamFailure failure;
    if (retry_failed_attempt(backend, attempts, up, plan, failed, failure)) {
      ++result.retries;
      continue;
    }
    co_await fail(c, result, failure,
                  plan.client_keep_alive && plan.replayable && !failed.timed_out);
    c.client_buffer.consume(plan.replayable ? plan.buffered_body : 0);
    co_return result;
  }

  c.client_buffer.consume(plan.replayable ? plan.buffered_body : 0);
  if (plan.replayable) result.body_received += plan.buffered_body;
  result.upstream_duration = std::chrono::steady_clock::now() - sent_at;
  co_await deliver_response(c, plan, *response, up, pod_stream<Upstream>(up), attempts, result,
                            timeouts.idle);
  co_return result;
}

}  // namespace forward_detail

template <ByteStream Stream>
boost::asio::awaitable<ForwardResult> forward_request(
    BasicHttpConnection<Stream>& c, RequestParser& parser, const lb::Backend& backend,
    const conf::ProxySettings& settings, ServiceStats* stats,
    const std::shared_ptr<const UpstreamTls>& tls) {
  using namespace forward_detail;
  // Not `tls ? co_await ... : ...`: GCC 12 miscompiles co_await inside ?:.
  if (tls) {
    // A named TlsUse, not a temporary in the co_await: GCC 12 destroys such a temporary
    // twice (its shared_ptr was released once too often).
    const TlsUse use{tls, settings.timeouts.tls_handshake};
    co_return co_await forward_exchange<Stream, UpstreamTlsStream>(c, parser, backend, settings,
                                                                   stats, use);
  }
  co_return co_await forward_exchange<Stream, boost::asio::ip::tcp::socket>(
      c, parser, backend, settings, stats, kPlainUpstream);
}

}  // namespace svcproxy::server

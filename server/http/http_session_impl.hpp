// The definitions of serve_http_connection, for every ByteStream it is instantiated with
// (http_session.cpp: the plain TCP socket; a unit test: a layered stream).
#pragma once

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/error.hpp>
#include <optional>

#include "server/http/http_connection.hpp"
#include "server/http/http_forward_impl.hpp"
#include "server/http/http_session.hpp"
#include "server/http_message/http_validation.hpp"
#include "server/log/access_log.hpp"
#include "server/log/log.hpp"
#include "server/metrics/metrics.hpp"
#include "server/net/byte_stream.hpp"
#include "server/net/drained_read.hpp"
#include "server/net/native_socket.hpp"

namespace svcproxy::server {
namespace session_detail {

inline constexpr auto kNoThrow = boost::asio::as_tuple(boost::asio::use_awaitable);
inline constexpr std::size_t kHeadReadSize = 8 * 1024;
// The first read of a request takes at least this much room: most request heads fit. (A
// connection between requests holds no buffer at all; see read_request_head.)
inline constexpr std::size_t kIdleReadSize = 1024;

struct HeadRead {
  enum class Outcome { Complete, Closed, Rejected };
  Outcome outcome = Outcome::Closed;
  Rejection rejection;
  std::size_t bytes = 0;
  std::chrono::steady_clock::time_point started;
};

inline void prepare_request_parser(RequestParser& parser, const conf::Limits& limits) {
  parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
  if (limits.max_body_bytes > 0)
    parser.body_limit(static_cast<std::uint64_t>(limits.max_body_bytes));
  else
    parser.body_limit(boost::none);
}

// A read or wait for request bytes failed: our requestHeader deadline (408), or the client
// closed, or a drain or the idle timeout cancelled a connection between requests.
template <ByteStream Stream>
HeadRead read_ended(const BasicHttpConnection<Stream>& c, HeadRead read) {
  if (c.deadline.fired() == Waiting::RequestHead) {
    read.outcome = HeadRead::Outcome::Rejected;
    read.rejection = {HttpError::RequestTimeout, RejectReason::HeaderTimeout};
  }
  return read;
}

// Reads until `parser` holds a complete request head, leaving the bytes after it (body,
// pipelined requests) in the client buffer.
template <ByteStream Stream>
boost::asio::awaitable<HeadRead> read_request_head(BasicHttpConnection<Stream>& c,
                                                   RequestParser& parser,
                                                   const conf::ProxySettings& settings) {
  const conf::Timeouts& timeouts = settings.timeouts;
  const conf::Limits& limits = settings.limits;
  HeadRead read;
  bool started = false;
  // Bytes at the front of the buffer the parser has taken: Beast takes a complete start
  // line even when the fields are still incomplete (put() says need_more but returns its
  // length), and must not be given those bytes again.
  std::size_t parsed = 0;
  for (;;) {
    if (c.client_buffer.size() > parsed) {
      if (!started) {
        read.started = std::chrono::steady_clock::now();
        started = true;
      }
      const auto data = c.client_buffer.data();
      const std::string_view buffered(static_cast<const char*>(data.data()), data.size());
      boost::system::error_code error;
      parsed += parser.put(data + parsed, error);
      if (parser.is_header_done()) {
        if (const auto rejected =
                check_request_head(parser.get(), buffered.substr(0, parsed), limits)) {
          read.outcome = HeadRead::Outcome::Rejected;
          read.rejection = *rejected;
          co_return read;
        }
        c.client_buffer.consume(parsed);
        read.outcome = HeadRead::Outcome::Complete;
        read.bytes = parsed;
        co_return read;
      }
      if (error != boost::beast::http::error::need_more) {
        read.outcome = HeadRead::Outcome::Rejected;
        read.rejection = classify_request_parse_error(error, buffered);
        co_return read;
      }
      // Beast takes the request line as soon as it is whole, so while nothing is parsed the
      // line is still arriving: refuse it once it is too long, not at maxHeaderBytes.
      if (parsed == 0) {
        if (const auto rejected = check_incomplete_request_line(
                buffered, static_cast<std::size_t>(limits.max_request_line_bytes))) {
          read.outcome = HeadRead::Outcome::Rejected;
          read.rejection = *rejected;
          co_return read;
        }
      }
      // The first bytes of a request on a kept-alive connection: now the header timeout runs.
      if (c.deadline.waiting() == Waiting::NextRequest)
        c.expect(Waiting::RequestHead, timeouts.request_header);
    }
    if (c.client_buffer.size() == 0) {
      // Nothing buffered (a new connection, mostly): wait for bytes without a
      // buffer when the stream knows none are there yet, then borrow one. Not again after
      // the wait between requests said bytes came (a TLS stream learns of them only by
      // reading).
      if (!c.woke_readable && !may_be_readable(c.client)) {
        auto [wait_error] =
            co_await c.socket().async_wait(boost::asio::ip::tcp::socket::wait_read, kNoThrow);
        if (wait_error) co_return read_ended(c, read);
        c.woke_readable = true;
      }
      if (c.client_buffer.capacity() == 0) c.client_buffer = c.resources.client_buffers.take();
    }
    const std::size_t room = c.client_buffer.capacity() - c.client_buffer.size();
    const std::size_t want =
        std::max(room, c.client_buffer.size() == 0 ? kIdleReadSize : kHeadReadSize);
    if (c.woke_readable) {
      c.woke_readable = false;
      // The wait said bytes are there: read them now, not through the scheduler — from
      // the socket itself only when it is the stream (TLS bytes go through OpenSSL).
      if constexpr (is_plain_socket<Stream>) {
        boost::system::error_code error;
        const std::size_t n = receive_now(c.socket(), c.client_buffer.prepare(want), error);
        if (n > 0) {
          c.client_buffer.commit(n);
          continue;
        }
        if (error != boost::asio::error::would_block) co_return read_ended(c, read);
      }
    }
    auto [error, n] =
        co_await c.client.async_read_some(draining(c.client_buffer.prepare(want)), kNoThrow);
    if (error) co_return read_ended(c, read);
    c.client_buffer.commit(n);
  }
}

// Batches the line with the others of this event-loop round (see WorkerResources).
template <ByteStream Stream>
void log_request(BasicHttpConnection<Stream>& c, const L7AccessRecord& record) {
  if (!access_log_enabled()) return;
  WorkerResources& resources = c.resources;
  append_access_log_line(record, resources.access_log_batch);
  if (resources.access_log_flush_posted) return;
  resources.access_log_flush_posted = true;
  boost::asio::post(c.client.get_executor(), [&resources] {
    write_access_log_lines(resources.access_log_batch);
    resources.access_log_batch.clear();
    resources.access_log_flush_posted = false;
  });
}

template <ByteStream Stream>
void log_rejected(BasicHttpConnection<Stream>& c, std::string_view service,
                  const RequestParser& parser, const HeadRead& head, std::size_t sent,
                  ServiceStats* stats) {
  L7AccessRecord record;
  record.service = service;
  record.client = c.client_address;
  if (parser.is_header_done()) {  // refused for what the head says: say which request
    record.method = parser.get().method_string();
    record.target = parser.get().target();
  }
  record.status = status_code(head.rejection.status);
  record.bytes_received = c.client_buffer.size();
  record.bytes_sent = sent;
  record.duration = head.started == std::chrono::steady_clock::time_point{}
                        ? std::chrono::steady_clock::duration{}
                        : std::chrono::steady_clock::now() - head.started;
  record.error = to_string(head.rejection.reason);
  log_request(c, record);
  if (!stats) return;
  record_rejected_request(*stats, head.rejection.reason);
  record_http_request(*stats, record.status, record.duration);
  record_bytes(*stats, record.bytes_received, record.bytes_sent);
}

template <ByteStream Stream>
void log_forwarded(BasicHttpConnection<Stream>& c, std::string_view service,
                   const RequestParser& parser, const HeadRead& head, const ForwardResult& result,
                   ServiceStats* stats) {
  L7AccessRecord record;
  record.service = service;
  record.client = c.client_address;
  if (result.endpoint) {
    record.pod_namespace = result.endpoint->address().pod_namespace;
    record.pod_name = result.endpoint->address().pod_name;
  }
  record.method = parser.get().method_string();
  record.target = parser.get().target();
  record.status = result.status;
  record.bytes_received = head.bytes + result.body_received;
  record.bytes_sent = result.bytes_sent;
  record.duration = std::chrono::steady_clock::now() - head.started;
  record.upstream_duration = result.upstream_duration;
  record.error = result.error;
  log_request(c, record);
  if (!stats) return;
  if (result.rejected) record_rejected_request(*stats, *result.rejected);
  record_http_request(*stats, record.status, record.duration);
  record_bytes(*stats, record.bytes_received, record.bytes_sent);
  for (int i = 0; i < result.retries; ++i)
    record_upstream_retry(*stats);
}

// The route in force for the connection's listener, looked up again after a reload.
struct Route {
  RoutingTablePtr routes;
  lb::BackendPtr backend;
  StatsHandle stats;
  std::shared_ptr<const UpstreamTls> upstream_tls;  // null: plain HTTP to the pods

  bool refresh(const WorkerContext& worker, const std::string& backend_key) {
    if (routes != worker.routes()) {
      routes = worker.routes();
      backend = routes ? routes->find(backend_key) : nullptr;
      stats = routes ? routes->stats_for(backend_key, worker.index()) : StatsHandle{};
      upstream_tls = routes ? routes->upstream_tls_for(backend_key) : nullptr;
    }
    return static_cast<bool>(routes);
  }
};

// One request: its head read, then refused or forwarded, and logged. The parser lives in
// this frame, so a connection between requests holds none. True when the connection
// carries another request.
template <ByteStream Stream>
boost::asio::awaitable<bool> serve_one_request(BasicHttpConnection<Stream>& c, const Route& route,
                                               std::string_view backend_key) {
  const conf::ProxySettings& settings = route.routes->settings;
  const std::string_view service =
      route.backend ? std::string_view(route.backend->name()) : backend_key;
  std::optional<RequestParser> parser;
  c.start_parser(parser);
  prepare_request_parser(*parser, settings.limits);
  const HeadRead head = co_await read_request_head(c, *parser, settings);
  if (head.outcome == HeadRead::Outcome::Closed) co_return false;
  if (head.outcome == HeadRead::Outcome::Rejected) {
    const std::size_t sent = co_await send_error(c, head.rejection.status, false);
    log_rejected(c, service, *parser, head, sent, route.stats.get());
    co_await close_gracefully(c);
    co_return false;
  }
  if (!route.backend) {
    ForwardResult gone;
    gone.status = status_code(HttpError::ServiceUnavailable);
    gone.error = "no_route";
    gone.bytes_sent = co_await send_error(c, HttpError::ServiceUnavailable, false);
    log_forwarded(c, service, *parser, head, gone, route.stats.get());
    co_await close_gracefully(c);
    co_return false;
  }
  const ForwardResult result = co_await forward_request(c, *parser, *route.backend, settings,
                                                        route.stats.get(), route.upstream_tls);
  const bool last = !result.keep_client || c.worker.draining();
  // The last response is out: close now, before the log line. When the proxy's FIN
  // reaches the client first, the client's FIN moves this socket to TIME_WAIT in the
  // client's context; closing second would tear the socket down here, on the worker
  // (measured: CPU per `Connection: close` request, see the commit). A TLS connection
  // always ends with a close_notify (else the client cannot tell our close from a
  // truncation) and waits for the client's, as nginx and HAProxy do.
  const bool linger = result.linger || SecureStream<Stream>;
  if (last && !linger) close_quietly(c.socket());
  log_forwarded(c, service, *parser, head, result, route.stats.get());
  if (last && linger) co_await close_gracefully(c);
  co_return !last;
}

template <ByteStream Stream>
boost::asio::awaitable<void> serve_requests(BasicHttpConnection<Stream>& c,
                                            const std::string& backend_key) {
  Route route;
  for (bool first = true;; first = false) {
    if (!route.refresh(c.worker, backend_key)) co_return;
    const bool between_requests = !first && c.client_buffer.size() == 0;
    if (between_requests) {
      c.expect(Waiting::NextRequest, route.routes->settings.timeouts.idle);
      // Keep-alive: the read buffer goes back to the worker until bytes come, and the wait
      // needs no buffer when the reactor knows none are there yet.
      c.resources.client_buffers.give_back(std::move(c.client_buffer));
      if (!may_be_readable(c.client)) {
        auto [error] =
            co_await c.socket().async_wait(boost::asio::ip::tcp::socket::wait_read, kNoThrow);
        if (error) co_return;  // closed, the idle timeout, or a drain
        c.woke_readable = true;
        if (!route.refresh(c.worker, backend_key)) co_return;
      }
    } else {
      c.expect(Waiting::RequestHead, route.routes->settings.timeouts.request_header);
    }
    if (!co_await serve_one_request(c, route, backend_key)) co_return;
  }
}

}  // namespace session_detail

template <ByteStream Stream>
boost::asio::awaitable<void> serve_http_connection(Stream client,
                                                   boost::asio::ip::tcp::endpoint peer,
                                                   std::string backend_key, WorkerContext& worker) {
  BasicHttpConnection<Stream> connection(std::move(client), peer, worker);
  try {
    co_await session_detail::serve_requests(connection, backend_key);
  } catch (const std::exception& failure) {
    log(LogLevel::Error, "http session on ", backend_key, " failed: ", failure.what());
  }
}

}  // namespace svcproxy::server

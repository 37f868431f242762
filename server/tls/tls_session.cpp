// GCC 12 reports a false mismatched-new-delete on Asio's awaitable frames in this file.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#include "server/tls/tls_session.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>

#include "server/http/http_session.hpp"
#include "server/l4/l4_session.hpp"
#include "server/log/log.hpp"
#include "server/net/native_socket.hpp"
#include "server/tls/tls_counters.hpp"
#include "server/tls/tls_socket.hpp"
#include "server/tls/tls_terminator.hpp"
#include "server/worker/worker_context.hpp"

namespace svcproxy::server {
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

constexpr unsigned char kHandshakeRecord = 0x16;  // a TLS record of type handshake

// What OpenSSL's reason for a failed handshake says, as the metric counts it.
TlsFailure failure_of(const boost::system::error_code& error) {
  if (error == asio::error::operation_aborted) return TlsFailure::Timeout;
  if (error == asio::error::eof || error == asio::ssl::error::stream_truncated ||
      error == asio::error::connection_reset)
    return TlsFailure::Closed;
  if (error.category() != asio::error::get_ssl_category()) return TlsFailure::Other;
  switch (ERR_GET_REASON(static_cast<unsigned long>(error.value()))) {
    case SSL_R_UNSUPPORTED_PROTOCOL:
    case SSL_R_WRONG_VERSION_NUMBER:
    case SSL_R_VERSION_TOO_LOW:
      return TlsFailure::ProtocolVersion;
    case SSL_R_NO_SHARED_CIPHER:
    case SSL_R_NO_SHARED_GROUPS:
    case SSL_R_NO_SUITABLE_SIGNATURE_ALGORITHM:
      return TlsFailure::NoSharedCipher;
    case SSL_R_CALLBACK_FAILED:
    case SSL_R_CLIENTHELLO_TLSEXT:
      return TlsFailure::UnrecognizedName;
    case SSL_R_NO_APPLICATION_PROTOCOL:
      return TlsFailure::NoApplicationProtocol;
    default:
      return TlsFailure::Other;
  }
}

// The handshake's place in the worker's deadline watch, from accept to the end of the
// handshake.
struct HandshakeDeadline : WatchedSession {
  HandshakeDeadline(tcp::socket& watched, std::chrono::steady_clock::time_point due)
      : socket(&watched), deadline(due) {}
  tcp::socket* socket;  // where the connection is now; null once the handshake is done
  std::chrono::steady_clock::time_point deadline;
  bool fired = false;

  void check_deadline(std::chrono::steady_clock::time_point now) override {
    if (!socket || fired || now < deadline) return;
    fired = true;
    boost::system::error_code ignored;
    socket->cancel(ignored);
  }
  // A drain closes connections between requests; a handshake goes on to its first one
  // (its deadline still bounds it).
  void close_if_idle() override {}
};

asio::awaitable<void> refuse_plain_http(tcp::socket& socket) {
  static constexpr std::string_view kAnswer =
      "HTTP/1.1 400 Bad Request\r\nServer: svcproxy\r\nContent-Type: text/plain\r\n"
      "Content-Length: 46\r\nConnection: close\r\n\r\n"
      "The plain HTTP request was sent to HTTPS port\n";
  co_await asio::async_write(socket, asio::buffer(kAnswer), asio::as_tuple(asio::use_awaitable));
  boost::system::error_code ignored;
  socket.shutdown(tcp::socket::shutdown_send, ignored);
}

}  // namespace

asio::awaitable<void> serve_tls_connection(tcp::socket socket, tcp::endpoint peer,
                                           std::shared_ptr<TlsTerminator> tls, TlsPayload payload,
                                           WorkerContext& worker,
                                           conf::Duration handshake_timeout) {
  // One deadline for the whole handshake, the first byte included, kept by the worker's
  // deadline watch (no timer of its own): cancelling the socket ends whatever waits on it.
  HandshakeDeadline deadline(socket, std::chrono::steady_clock::now() + handshake_timeout);
  worker.deadlines().join(deadline);
  bool& timed_out = deadline.fired;

  // The first byte, peeked: mostly the ClientHello is there by the time the connection is
  // accepted, so look before waiting; a wake-up may find nothing to read yet (measured:
  // about one new connection in 200 under wrk -c4), which is a reason to wait again, not
  // to close.
  unsigned char first = 0;
  for (bool waited = false;; waited = true) {
    boost::system::error_code wait_error;
    if (waited) {
      auto [error] =
          co_await socket.async_wait(tcp::socket::wait_read, asio::as_tuple(asio::use_awaitable));
      wait_error = error;
    }
    const ssize_t peeked =
        wait_error ? -1 : ::recv(socket.native_handle(), &first, 1, MSG_PEEK | MSG_DONTWAIT);
    if (peeked > 0) break;
    if (peeked < 0 && !wait_error && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
      continue;
    count_tls_failure(timed_out ? TlsFailure::Timeout : TlsFailure::Closed);
    co_return;
  }
  if (first != kHandshakeRecord) {
    // An HTTP method starts with an upper-case letter; a TLS record never does.
    const bool http = first >= 'A' && first <= 'Z';
    count_tls_failure(http ? TlsFailure::PlainHttp : TlsFailure::NotTls);
    if (http) co_await refuse_plain_http(socket);
    co_return;
  }

  TlsSocket stream(std::move(socket), tls->context());
  deadline.socket = &stream.next_layer();
  auto [error] = co_await stream.async_handshake(asio::ssl::stream_base::server,
                                                 asio::as_tuple(asio::use_awaitable));
  if (error) {
    count_tls_failure(timed_out ? TlsFailure::Timeout : failure_of(error));
    log(LogLevel::Debug, "tls: handshake from ", describe_peer(peer).ip_port,
        " failed: ", error.message());
    co_return;
  }
  deadline.socket = nullptr;
  deadline.unlink();
  count_tls_handshake(tls_version(SSL_get_version(stream.native_handle())),
                      SSL_session_reused(stream.native_handle()) == 1);
  if (payload.protocol == conf::AppProtocol::Http) {
    co_await serve_http_connection(std::move(stream), peer, std::move(payload.backend_key), worker);
  } else {
    co_await serve_l4_tls_connection(std::move(stream), peer, std::move(payload.backend),
                                     std::move(payload.routes), std::move(payload.stats),
                                     worker.resources().relay_buffers);
  }
}

}  // namespace svcproxy::server

// GCC 12 reports a false mismatched-new-delete on Asio's awaitable frames in this file.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#include "server/l4/tls_relay.hpp"

#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <chrono>

#include "server/net/native_socket.hpp"

namespace svcproxy::server {
namespace asio = boost::asio;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

// What the two directions and the idle watchdog share; all run on the worker's thread.
struct TlsRelayState {
  TlsClientStream& client;
  tcp::socket& upstream;
  RelayBufferPool& buffers;
  RelayResult& result;
  asio::steady_timer watchdog;
  Clock::time_point last_activity = Clock::now();
  bool aborted = false;     // both sockets were reset
  bool pod_closed = false;  // the pod's FIN: the session ends
  int directions_done = 0;

  void abort(RelayEnd end) {
    if (aborted) return;
    aborted = true;
    result.end = end;
    reset_connection(client.next_layer());
    reset_connection(upstream);
  }
  void direction_done() {
    if (++directions_done == 2) watchdog.cancel();
  }
};

bool is_end_of_stream(const boost::system::error_code& error) {
  // A client that closes without close_notify (most do, after their last byte) is taken
  // as an end of stream: there is no HTTP framing here to tell a truncation apart.
  return error == asio::error::eof || error == asio::ssl::error::stream_truncated;
}

// Whether bytes are already there: a wait would only end at the next arrival (the edge of
// bytes that came while we were writing is gone), so it is taken only when none are.
bool readable_now(tcp::socket& socket) {
  char byte;
  return ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT) != -1 ||
         (errno != EAGAIN && errno != EWOULDBLOCK);  // data, end of stream or an error
}

asio::awaitable<void> client_to_pod(TlsRelayState& s) {
  SSL* const ssl = s.client.native_handle();
  for (;;) {
    // Wait for ciphertext holding no buffer, unless OpenSSL already holds bytes (decrypted,
    // or records read ahead) or the socket has some.
    if (SSL_has_pending(ssl) == 0 && !readable_now(s.client.next_layer())) {
      auto [error] = co_await s.client.next_layer().async_wait(tcp::socket::wait_read, kNoThrow);
      if (s.aborted || s.pod_closed) break;
      if (error) {
        s.abort(RelayEnd::ClientReset);
        break;
      }
    }
    RelayBufferPool::Lease buffer = s.buffers.lease();
    auto [error, n] = co_await s.client.async_read_some(
        asio::buffer(buffer.data(), RelayBufferPool::kSize), kNoThrow);
    if (s.aborted || s.pod_closed) break;
    if (is_end_of_stream(error)) {
      boost::system::error_code ignored;
      s.upstream.shutdown(tcp::socket::shutdown_send, ignored);  // the half-close travels on
      break;
    }
    if (error) {
      s.abort(RelayEnd::ClientReset);
      break;
    }
    auto [write_error, written] =
        co_await asio::async_write(s.upstream, asio::buffer(buffer.data(), n), kNoThrow);
    s.result.client_to_upstream += written;
    s.last_activity = Clock::now();
    if (s.aborted) break;
    if (write_error) {
      s.abort(RelayEnd::UpstreamReset);
      break;
    }
  }
  s.direction_done();
}

asio::awaitable<void> pod_to_client(TlsRelayState& s) {
  for (;;) {
    if (!readable_now(s.upstream)) {  // wait holding no buffer only when nothing is there
      auto [error] = co_await s.upstream.async_wait(tcp::socket::wait_read, kNoThrow);
      if (s.aborted) break;
      if (error) {
        s.abort(RelayEnd::UpstreamReset);
        break;
      }
    }
    RelayBufferPool::Lease buffer = s.buffers.lease();
    boost::system::error_code read_error;
    const std::size_t n =
        receive_now(s.upstream, asio::buffer(buffer.data(), RelayBufferPool::kSize), read_error);
    if (read_error == asio::error::would_block) continue;
    if (read_error == asio::error::eof) {
      // The client's read stops; the session closes once both directions are done.
      s.pod_closed = true;
      boost::system::error_code ignored;
      s.client.next_layer().cancel(ignored);
      break;
    }
    if (read_error) {
      s.abort(RelayEnd::UpstreamReset);
      break;
    }
    auto [write_error, written] =
        co_await asio::async_write(s.client, asio::buffer(buffer.data(), n), kNoThrow);
    s.result.upstream_to_client += written;
    s.last_activity = Clock::now();
    if (s.aborted) break;
    if (write_error) {
      s.abort(RelayEnd::ClientReset);
      break;
    }
  }
  s.direction_done();
}

asio::awaitable<void> watch_idle(TlsRelayState& s, conf::Duration idle_timeout) {
  while (s.directions_done < 2 && !s.aborted) {
    s.watchdog.expires_at(s.last_activity + idle_timeout);
    co_await s.watchdog.async_wait(kNoThrow);
    if (s.directions_done < 2 && Clock::now() >= s.last_activity + idle_timeout)
      s.abort(RelayEnd::IdleTimeout);
  }
}

// close_notify to the client without waiting for its answer (RFC 8446 6.1 allows it):
// marking the peer's close_notify as received makes SSL_shutdown complete once ours is
// written. A client that reads nothing gets `bound` before the socket closes anyway.
asio::awaitable<void> send_close_notify(TlsClientStream& client, conf::Duration bound) {
  SSL* const ssl = client.native_handle();
  SSL_set_shutdown(ssl, SSL_get_shutdown(ssl) | SSL_RECEIVED_SHUTDOWN);
  asio::steady_timer deadline(client.get_executor());
  deadline.expires_after(bound);
  deadline.async_wait([&client](const boost::system::error_code& error) {
    if (!error) reset_connection(client.next_layer());
  });
  co_await client.async_shutdown(kNoThrow);
  deadline.cancel();
}

}  // namespace

asio::awaitable<RelayResult> relay_tls(TlsClientStream& client, tcp::socket& upstream,
                                       conf::Duration idle_timeout, RelayBufferPool& buffers) {
  using namespace asio::experimental::awaitable_operators;
  RelayResult result;
  TlsRelayState state{client, upstream, buffers, result, asio::steady_timer(client.get_executor())};
  co_await (client_to_pod(state) && pod_to_client(state) && watch_idle(state, idle_timeout));
  if (!state.aborted) {
    co_await send_close_notify(client, idle_timeout);
    close_quietly(client.next_layer());
    close_quietly(upstream);
  }
  co_return result;
}

}  // namespace svcproxy::server

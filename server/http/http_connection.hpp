// The state of one client connection to an L7 (appProtocol: http) port, shared by the
// request loop (http_session) and the forwarding of each request (http_forward). Lives in
// the session's coroutine frame; touched only on its worker's thread. Written against a
// ByteStream (net/byte_stream.hpp): a plain TCP socket today, a TLS stream through the same
// code later.
#pragma once

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "conf/model.hpp"
#include "lb/endpoint.hpp"
#include "server/http/field_arena.hpp"
#include "server/http/http_deadline.hpp"
#include "server/http_message/http_errors.hpp"
#include "server/net/byte_stream.hpp"
#include "server/net/native_socket.hpp"
#include "server/worker/coarse_clock.hpp"
#include "server/worker/worker_context.hpp"

namespace svcproxy::server {

using RequestParser =
    boost::beast::http::request_parser<boost::beast::http::buffer_body, FieldAllocator>;

// How long an error response or a lingering close may take before a hard close.
inline constexpr std::chrono::seconds kClosingGrace{2};

template <ByteStream Stream>
class BasicHttpConnection final : public WatchedSession {
 public:
  BasicHttpConnection(Stream stream, const boost::asio::ip::tcp::endpoint& peer,
                      WorkerContext& owner)
      : client(std::move(stream)),
        worker(owner),
        resources(owner.resources()),
        field_arena(resources.field_blocks) {
    PeerAddress described = describe_peer(peer);
    client_ip = std::move(described.ip);
    client_address = std::move(described.ip_port);
    worker.deadlines().join(*this);
  }
  ~BasicHttpConnection() = default;  // the intrusive hook unlinks itself

  // Sets what the connection waits for next and the deadline for it.
  void expect(Waiting what, conf::Duration within) {
    deadline.expect(what, coarse_now() + within);  // checked once per tick anyway
  }
  void expect_nothing() { deadline.expect_nothing(); }
  bool timed_out() const { return deadline.fired() != Waiting::Nothing; }

  // The TCP socket under the stream: closing, cancelling, waiting, addresses.
  boost::asio::ip::tcp::socket& socket() { return lowest_socket(client); }

  // ip:port the client reached, the Host of a request without one (HTTP/1.0). Asked of
  // the kernel on first use: most connections never need it (a getsockname(2) saved).
  const std::string& local_host() {
    if (local_host_.empty()) {
      boost::system::error_code error;
      const auto local = socket().local_endpoint(error);
      if (!error) local_host_ = describe_peer(local).ip_port;
    }
    return local_host_;
  }

  // Drain: a connection between requests closes now; a busy one after its response.
  void close_if_idle() override {
    if (deadline.waiting() != Waiting::NextRequest) return;
    boost::system::error_code ignored;
    socket().cancel(ignored);
  }

  // Past the deadline, the awaited operations are cancelled (the request loop then answers
  // 408 or 504, or closes) and a short grace begins; past that too, the sockets close.
  void check_deadline(std::chrono::steady_clock::time_point now) override {
    boost::system::error_code ignored;
    switch (deadline.due(now, kClosingGrace)) {
      case Deadline::Due::Nothing:
        return;
      case Deadline::Due::Cancel:
        socket().cancel(ignored);
        if (upstream) upstream->cancel(ignored);
        return;
      case Deadline::Due::Close:
        socket().close(ignored);
        if (upstream) upstream->close(ignored);
        return;
    }
  }

  Stream client;
  WorkerContext& worker;
  WorkerResources& resources;
  FieldArena field_arena;  // both parsers of the current exchange allocate here
  template <class Parser>
  void start_parser(std::optional<Parser>& parser) {
    parser.emplace(std::piecewise_construct, std::make_tuple(),
                   std::make_tuple(FieldAllocator(&field_arena)));
  }
  boost::beast::flat_buffer client_buffer;    // read from the client, not yet parsed
  boost::beast::flat_buffer upstream_buffer;  // read from the pod, not yet parsed
  std::string head;                           // a serialised head, reused
  std::string client_ip;
  std::string client_address;              // ip:port, for the access log
  std::vector<const lb::Endpoint*> tried;  // endpoints tried for the current request
  Deadline deadline;
  // A readiness wait on the socket just completed: on a plain socket the next read is
  // made at once (receive_now) rather than through the scheduler.
  bool woke_readable = false;
  // The pod's socket of the exchange in progress, cancelled too when the deadline passes.
  boost::asio::ip::tcp::socket* upstream = nullptr;

 private:
  std::string local_host_;
};

using HttpConnection = BasicHttpConnection<boost::asio::ip::tcp::socket>;

// Writes a short error response; returns the bytes written (0 when the client is gone).
template <ByteStream Stream>
boost::asio::awaitable<std::size_t> send_error(BasicHttpConnection<Stream>& c, HttpError error,
                                               bool keep_alive) {
  const std::string response = error_response(error, keep_alive);
  c.expect(Waiting::Closing, kClosingGrace);
  auto [failure, written] = co_await boost::asio::async_write(
      c.client, boost::asio::buffer(response), boost::asio::as_tuple(boost::asio::use_awaitable));
  co_return failure ? 0 : written;
}

// Ends the connection without losing the last response: shuts down our sending side, then
// reads and discards what the client still sends for a short while (so the kernel does not
// answer its bytes with a reset that could destroy the response in flight), then closes.
// Over TLS (a SecureStream) our side ends with a close_notify, and the wait is for the
// client's (or its FIN).
template <class Stream>
concept SecureStream = requires(Stream& s) {
  s.async_shutdown(boost::asio::use_awaitable);
};

template <ByteStream Stream>
boost::asio::awaitable<void> close_gracefully(BasicHttpConnection<Stream>& c) {
  boost::system::error_code ignored;
  if constexpr (SecureStream<Stream>) {
    c.expect(Waiting::Closing, kClosingGrace);
    co_await c.client.async_shutdown(boost::asio::as_tuple(boost::asio::use_awaitable));
    c.socket().close(ignored);
    co_return;
  }
  c.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
  c.expect(Waiting::Closing, kClosingGrace);
  std::array<char, 4096> discard;
  for (std::size_t total = 0; total < 1024 * 1024;) {
    auto [error, n] = co_await c.client.async_read_some(
        boost::asio::buffer(discard), boost::asio::as_tuple(boost::asio::use_awaitable));
    if (error) break;
    total += n;
  }
  c.socket().close(ignored);
}

}  // namespace svcproxy::server

// The state of one client connection to an L7 (appProtocol: http) port, shared by the
// request loop (http_session) and the forwarding of each request (http_forward). Lives in
// the session's coroutine frame; touched only on its worker's thread.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
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
#include "server/http/http_errors.hpp"
#include "server/worker/coarse_clock.hpp"
#include "server/worker/worker_context.hpp"

namespace svcproxy::server {

using RequestParser =
    boost::beast::http::request_parser<boost::beast::http::buffer_body, FieldAllocator>;

class HttpConnection final : public WatchedSession {
 public:
  HttpConnection(boost::asio::ip::tcp::socket socket, const boost::asio::ip::tcp::endpoint& peer,
                 WorkerContext& worker);
  ~HttpConnection();

  // Sets what the connection waits for next and the deadline for it.
  void expect(Waiting what, conf::Duration within) {
    deadline.expect(what, coarse_now() + within);  // checked once per tick anyway
  }
  void expect_nothing() { deadline.expect_nothing(); }
  bool timed_out() const { return deadline.fired() != Waiting::Nothing; }

  // ip:port the client reached, the Host of a request without one (HTTP/1.0). Asked of
  // the kernel on first use: most connections never need it (a getsockname(2) saved).
  const std::string& local_host();

  // Drain: a connection between requests closes now; a busy one after its response.
  void close_if_idle() override;
  // Past the deadline, the awaited operations are cancelled (the request loop then answers
  // 408 or 504, or closes) and a short grace begins; past that too, the sockets close.
  void check_deadline(std::chrono::steady_clock::time_point now) override;

  boost::asio::ip::tcp::socket client;
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
  // The pod's socket of the exchange in progress, cancelled too when the deadline passes.
  boost::asio::ip::tcp::socket* upstream = nullptr;

 private:
  std::string local_host_;
};

// Writes a short error response; returns the bytes written (0 when the client is gone).
boost::asio::awaitable<std::size_t> send_error(HttpConnection& connection, HttpError error,
                                               bool keep_alive);

// Ends the connection without losing the last response: shuts down our sending side, then
// reads and discards what the client still sends for a short while (so the kernel does not
// answer its bytes with a reset that could destroy the response in flight), then closes.
boost::asio::awaitable<void> close_gracefully(HttpConnection& connection);

// How long an error response or a lingering close may take before a hard close.
inline constexpr std::chrono::seconds kClosingGrace{2};

}  // namespace svcproxy::server

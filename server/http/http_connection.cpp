#include "server/http/http_connection.hpp"

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "server/net/drained_read.hpp"
#include "server/net/native_socket.hpp"

namespace svcproxy::server {
namespace asio = boost::asio;
using asio::ip::tcp;

HttpConnection::HttpConnection(tcp::socket socket, const tcp::endpoint& peer, WorkerContext& owner)
    : client(std::move(socket)),
      worker(owner),
      resources(owner.resources()),
      field_arena(resources.field_blocks) {
  PeerAddress described = describe_peer(peer);
  client_ip = std::move(described.ip);
  client_address = std::move(described.ip_port);
  worker.deadlines().join(*this);
}

HttpConnection::~HttpConnection() = default;  // the intrusive hook unlinks itself

const std::string& HttpConnection::local_host() {
  if (local_host_.empty()) {
    boost::system::error_code error;
    const auto local = client.local_endpoint(error);
    if (!error) local_host_ = describe_peer(local).ip_port;
  }
  return local_host_;
}

void HttpConnection::close_if_idle() {
  if (deadline.waiting() != Waiting::NextRequest) return;
  boost::system::error_code ignored;
  client.cancel(ignored);
}

void HttpConnection::check_deadline(std::chrono::steady_clock::time_point now) {
  boost::system::error_code ignored;
  switch (deadline.due(now, kClosingGrace)) {
    case Deadline::Due::Nothing:
      return;
    case Deadline::Due::Cancel:
      client.cancel(ignored);
      if (upstream) upstream->cancel(ignored);
      return;
    case Deadline::Due::Close:
      client.close(ignored);
      if (upstream) upstream->close(ignored);
      return;
  }
}

asio::awaitable<std::size_t> send_error(HttpConnection& c, HttpError error, bool keep_alive) {
  const std::string response = error_response(error, keep_alive);
  c.expect(Waiting::Closing, kClosingGrace);
  auto [failure, written] = co_await asio::async_write(c.client, asio::buffer(response),
                                                       asio::as_tuple(asio::use_awaitable));
  co_return failure ? 0 : written;
}

asio::awaitable<void> close_gracefully(HttpConnection& c) {
  boost::system::error_code ignored;
  c.client.shutdown(tcp::socket::shutdown_send, ignored);
  c.expect(Waiting::Closing, kClosingGrace);
  std::array<char, 4096> discard;
  for (std::size_t total = 0; total < 1024 * 1024;) {
    auto [error, n] = co_await c.client.async_read_some(asio::buffer(discard),
                                                        asio::as_tuple(asio::use_awaitable));
    if (error) break;
    total += n;
  }
  c.client.close(ignored);
}

}  // namespace svcproxy::server

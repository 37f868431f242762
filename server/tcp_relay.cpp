#include "server/tcp_relay.hpp"

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <chrono>

#include "server/drained_read.hpp"

namespace svcproxy::server {
namespace asio = boost::asio;
using asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;
using Clock = std::chrono::steady_clock;

const char* to_string(RelayEnd end) {
  switch (end) {
    case RelayEnd::BothClosed:
      return "eof";
    case RelayEnd::ClientReset:
      return "client_reset";
    case RelayEnd::UpstreamReset:
      return "upstream_reset";
    case RelayEnd::IdleTimeout:
      return "idle_timeout";
  }
  return "?";
}

namespace {

constexpr std::size_t kRelayBufferBytes = 64 * 1024;

// Closes with an RST, so the peer learns the other side failed rather than finished.
void reset(tcp::socket& socket) {
  boost::system::error_code ignored;
  socket.set_option(asio::socket_base::linger(true, 0), ignored);
  socket.close(ignored);
}

struct Direction {
  tcp::socket& from;
  tcp::socket& to;
  std::uint64_t& bytes;
  RelayEnd from_failed;  // how the relay ends if reading fails
  RelayEnd to_failed;    // how the relay ends if writing fails
};

// Copies until EOF (passed on as shutdown(send)) or an error (both sides reset).
asio::awaitable<void> copy(Direction direction, Clock::time_point& last_activity, RelayEnd& end) {
  std::array<char, kRelayBufferBytes> buffer;
  for (;;) {
    auto [read_error, n] = co_await direction.from.async_read_some(
        draining(asio::buffer(buffer)), asio::as_tuple(asio::use_awaitable));
    if (read_error == asio::error::eof) {
      boost::system::error_code ignored;
      direction.to.shutdown(tcp::socket::shutdown_send, ignored);
      co_return;
    }
    boost::system::error_code error = read_error;
    RelayEnd failure = direction.from_failed;
    if (!read_error) {
      auto [write_error, written] = co_await asio::async_write(
          direction.to, asio::buffer(buffer.data(), n), asio::as_tuple(asio::use_awaitable));
      direction.bytes += written;
      last_activity = Clock::now();
      if (!write_error) continue;
      error = write_error;
      failure = direction.to_failed;
    }
    // operation_aborted: the other direction or the watchdog already ended the relay.
    if (error != asio::error::operation_aborted && end == RelayEnd::BothClosed) end = failure;
    reset(direction.from);
    reset(direction.to);
    co_return;
  }
}

// Completes once nothing moved for `idle_timeout`; cancelled when the relay ends first.
asio::awaitable<void> idle_watchdog(const Clock::time_point& last_activity,
                                    conf::Duration idle_timeout) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    const auto deadline = last_activity + idle_timeout;
    if (deadline <= Clock::now()) co_return;
    timer.expires_at(deadline);
    auto [error] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (error) co_return;
  }
}

}  // namespace

asio::awaitable<RelayResult> relay(tcp::socket& client, tcp::socket& upstream,
                                   conf::Duration idle_timeout) {
  RelayResult result;
  Clock::time_point last_activity = Clock::now();
  auto outcome = co_await ((copy({client, upstream, result.client_to_upstream,
                                  RelayEnd::ClientReset, RelayEnd::UpstreamReset},
                                 last_activity, result.end) &&
                            copy({upstream, client, result.upstream_to_client,
                                  RelayEnd::UpstreamReset, RelayEnd::ClientReset},
                                 last_activity, result.end)) ||
                           idle_watchdog(last_activity, idle_timeout));
  if (outcome.index() == 1) {
    result.end = RelayEnd::IdleTimeout;
    reset(client);
    reset(upstream);
  }
  co_return result;
}

}  // namespace svcproxy::server

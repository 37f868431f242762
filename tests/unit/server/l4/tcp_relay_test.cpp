#include "server/l4/tcp_relay.hpp"

#include <doctest/doctest.h>
#include <sys/socket.h>

#include <boost/asio.hpp>
#include <chrono>
#include <optional>
#include <string>

#include "server/net/drained_read.hpp"
#include "tests/unit/server/loopback_link.hpp"

namespace svcproxy::server {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

asio::awaitable<std::string> read_to_end(tcp::socket& socket, boost::system::error_code& end) {
  std::string received;
  char chunk[4096];
  for (;;) {
    auto [error, n] = co_await socket.async_read_some(asio::buffer(chunk), use_tuple);
    received.append(chunk, n);
    if (error) {
      end = error;
      co_return received;
    }
  }
}

struct Harness {
  asio::io_context context;
  LoopbackLink client = make_loopback_link(context);
  LoopbackLink upstream = make_loopback_link(context);
  RelayBufferPool buffers;
  PipePool pipes;
  std::optional<RelayResult> result;

  void start(conf::Duration idle) {
    asio::co_spawn(
        context,
        [this, idle]() -> asio::awaitable<void> {
          result = co_await relay(client.inside, upstream.inside, idle, {buffers, pipes});
        },
        asio::detached);
  }
  void run() { context.run_for(20s); }
};

TEST_CASE("relay passes bytes and each half-close on, and closes when both ends are done") {
  Harness h;
  h.start(10s);
  std::string at_pod, at_client;
  boost::system::error_code pod_end, client_end;
  asio::co_spawn(
      h.context,
      [&]() -> asio::awaitable<void> {
        co_await asio::async_write(h.client.outside, asio::buffer(std::string("ping")), use_tuple);
        h.client.outside.shutdown(tcp::socket::shutdown_send);
        at_client = co_await read_to_end(h.client.outside, client_end);
      },
      asio::detached);
  asio::co_spawn(
      h.context,
      [&]() -> asio::awaitable<void> {
        at_pod = co_await read_to_end(h.upstream.outside, pod_end);  // EOF: the client's
        co_await asio::async_write(h.upstream.outside, asio::buffer(std::string("pong")),
                                   use_tuple);
        h.upstream.outside.shutdown(tcp::socket::shutdown_send);
      },
      asio::detached);
  h.run();
  CHECK(at_pod == "ping");
  CHECK(pod_end == asio::error::eof);
  CHECK(at_client == "pong");
  CHECK(client_end == asio::error::eof);
  REQUIRE(h.result);
  CHECK(h.result->client_to_upstream == 4);
  CHECK(h.result->upstream_to_client == 4);
  CHECK(h.result->end == RelayEnd::BothClosed);
}

TEST_CASE("relay moves 16 MiB to a slow reader intact and gives its buffers back") {
  Harness h;
  // Small socket buffers force partial writes and waits for writability.
  const int small = 16 * 1024;
  ::setsockopt(h.client.outside.native_handle(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  ::setsockopt(h.client.inside.native_handle(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  h.start(10s);
  std::string sent(16 * 1024 * 1024, '\0');
  for (std::size_t i = 0; i < sent.size(); ++i)
    sent[i] = static_cast<char>(i * 7 + i / 4096);
  std::string at_client;
  boost::system::error_code client_end;
  asio::co_spawn(
      h.context,
      [&]() -> asio::awaitable<void> {
        co_await asio::async_write(h.upstream.outside, asio::buffer(sent), use_tuple);
        h.upstream.outside.shutdown(tcp::socket::shutdown_send);
      },
      asio::detached);
  asio::co_spawn(
      h.context,
      [&]() -> asio::awaitable<void> {
        asio::steady_timer pause(h.context);
        char chunk[8192];
        for (int reads = 0;; ++reads) {
          if (reads % 64 == 0) {
            pause.expires_after(1ms);
            co_await pause.async_wait(use_tuple);
          }
          auto [error, n] =
              co_await h.client.outside.async_read_some(asio::buffer(chunk), use_tuple);
          at_client.append(chunk, n);
          if (error) {
            client_end = error;
            break;
          }
        }
        h.client.outside.shutdown(tcp::socket::shutdown_send);
      },
      asio::detached);
  h.run();
  CHECK(at_client.size() == sent.size());
  CHECK(at_client == sent);
  CHECK(client_end == asio::error::eof);
  REQUIRE(h.result);
  CHECK(h.result->upstream_to_client == sent.size());
  CHECK(h.result->end == RelayEnd::BothClosed);
  CHECK(h.buffers.lent() == 0);  // every buffer went back to the worker
  // The bulk direction switched to splice(2) and gave its emptied pipe back.
  if (splice_supported) CHECK(h.pipes.idle() == 1);
}

// The FIN that comes with the last bytes raises no readiness event of its own: a relay that
// took the bytes as "the socket is drained" would wait for the idle timeout instead.
TEST_CASE("bytes and the end of stream that arrive together are passed on at once") {
  Harness h;
  h.start(60s);  // only the half-closes can end this relay in time
  // Both directions, and on the client's side after several reads (reads there switch to
  // plain recv(2) once the connection has proved long-lived).
  std::string at_pod, at_client;
  boost::system::error_code pod_end, client_end;
  asio::co_spawn(
      h.context,
      [&]() -> asio::awaitable<void> {
        at_pod = co_await read_to_end(h.upstream.outside, pod_end);
        asio::steady_timer settle(h.context, 20ms);
        co_await settle.async_wait(use_tuple);
        h.upstream.outside.send(asio::buffer(std::string("bye")));
        h.upstream.outside.shutdown(tcp::socket::shutdown_send);  // same turn: one event
      },
      asio::detached);
  asio::co_spawn(
      h.context,
      [&]() -> asio::awaitable<void> {
        const std::string exchanges[] = {"1st", "2nd", "3rd", "4th", "5th"};
        for (const std::string& bytes : exchanges) {
          // The relay has read what was there and waits for the next readiness event.
          asio::steady_timer settle(h.context, 20ms);
          co_await settle.async_wait(use_tuple);
          h.client.outside.send(asio::buffer(bytes));
        }
        h.client.outside.send(asio::buffer(std::string("last")));
        h.client.outside.shutdown(tcp::socket::shutdown_send);  // same turn: one event
        at_client = co_await read_to_end(h.client.outside, client_end);
      },
      asio::detached);
  h.context.run_for(5s);
  CHECK(at_pod == "1st2nd3rd4th5thlast");
  CHECK(pod_end == asio::error::eof);
  CHECK(at_client == "bye");
  CHECK(client_end == asio::error::eof);
  REQUIRE(h.result);
  CHECK(h.result->end == RelayEnd::BothClosed);
}

TEST_CASE("an idle relay holds no buffer") {
  Harness h;
  h.start(10s);
  std::size_t lent_while_idle = 99;
  asio::co_spawn(
      h.context,
      [&]() -> asio::awaitable<void> {
        co_await asio::async_write(h.client.outside, asio::buffer(std::string("ping")), use_tuple);
        char got[4];
        co_await asio::async_read(h.upstream.outside, asio::buffer(got), use_tuple);
        asio::steady_timer settle(h.context, 20ms);  // the relay is waiting on both sides now
        co_await settle.async_wait(use_tuple);
        lent_while_idle = h.buffers.lent();
        h.client.outside.shutdown(tcp::socket::shutdown_send);
        h.upstream.outside.shutdown(tcp::socket::shutdown_send);
      },
      asio::detached);
  h.run();
  CHECK(lent_while_idle == 0);
  REQUIRE(h.result);
  CHECK(h.result->end == RelayEnd::BothClosed);
}

TEST_CASE("relay resets the client when the pod resets") {
  Harness h;
  h.start(10s);
  boost::system::error_code client_end;
  asio::co_spawn(
      h.context,
      [&]() -> asio::awaitable<void> { co_await read_to_end(h.client.outside, client_end); },
      asio::detached);
  h.upstream.outside.set_option(asio::socket_base::linger(true, 0));
  h.upstream.outside.close();
  h.run();
  CHECK(client_end == asio::error::connection_reset);
  REQUIRE(h.result);
  CHECK(h.result->end == RelayEnd::UpstreamReset);
}

TEST_CASE("relay resets both sides after the idle timeout") {
  Harness h;
  const auto started = std::chrono::steady_clock::now();
  h.start(150ms);
  boost::system::error_code client_end, pod_end;
  asio::co_spawn(
      h.context,
      [&]() -> asio::awaitable<void> { co_await read_to_end(h.client.outside, client_end); },
      asio::detached);
  asio::co_spawn(
      h.context,
      [&]() -> asio::awaitable<void> { co_await read_to_end(h.upstream.outside, pod_end); },
      asio::detached);
  h.run();
  REQUIRE(h.result);
  CHECK(h.result->end == RelayEnd::IdleTimeout);
  CHECK(std::chrono::steady_clock::now() - started >= 150ms);
  CHECK(client_end == asio::error::connection_reset);
  CHECK(pod_end == asio::error::connection_reset);
}

}  // namespace
}  // namespace svcproxy::server

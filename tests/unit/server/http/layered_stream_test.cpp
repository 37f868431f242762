// The L7 connection is written against a stream concept (net/byte_stream.hpp): here a
// whole request goes through serve_http_connection over a stream layered on the socket,
// as asio::ssl::stream will be, rather than over the socket itself.
#include <doctest/doctest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <string>

#include "lb/backend.hpp"
#include "server/http/http_session_impl.hpp"
#include "tests/unit/server/loopback_link.hpp"

// GCC 12 reports a false mismatched-new-delete on Asio's awaitable frames in this file.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace svcproxy::server {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

struct LayerCounts {
  int reads = 0;
  int writes = 0;
};

// A stream over a TCP socket that counts what passes through it: the shape of a TLS stream
// (next_layer(), its own async_read_some/async_write_some) without the cryptography.
class CountingLayer {
 public:
  using executor_type = tcp::socket::executor_type;
  CountingLayer(tcp::socket socket, LayerCounts& counts)
      : next_(std::move(socket)), counts_(&counts) {}

  executor_type get_executor() { return next_.get_executor(); }
  tcp::socket& next_layer() { return next_; }

  template <class Buffers, class Token>
  auto async_read_some(const Buffers& buffers, Token&& token) {
    ++counts_->reads;
    return next_.async_read_some(buffers, std::forward<Token>(token));
  }
  template <class Buffers, class Token>
  auto async_write_some(const Buffers& buffers, Token&& token) {
    ++counts_->writes;
    return next_.async_write_some(buffers, std::forward<Token>(token));
  }

 private:
  tcp::socket next_;
  LayerCounts* counts_;
};

static_assert(ByteStream<CountingLayer>);
static_assert(ByteStream<tcp::socket>);
static_assert(!is_plain_socket<CountingLayer>);

// One pod: answers one request with "hello" and closes.
asio::awaitable<void> serve_one_pod_request(tcp::acceptor& acceptor, std::string& request) {
  tcp::socket pod = co_await acceptor.async_accept(asio::use_awaitable);
  asio::streambuf in;
  co_await asio::async_read_until(pod, in, "\r\n\r\n", asio::use_awaitable);
  request.assign(asio::buffers_begin(in.data()), asio::buffers_end(in.data()));
  constexpr std::string_view kResponse = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
  co_await asio::async_write(pod, asio::buffer(kResponse), asio::use_awaitable);
}

// One pod that switches protocols: answers 101 and echoes what comes until the proxy's end
// closes, then closes its own.
asio::awaitable<void> serve_one_upgrade(tcp::acceptor& acceptor) {
  tcp::socket pod = co_await acceptor.async_accept(asio::use_awaitable);
  asio::streambuf in;
  co_await asio::async_read_until(pod, in, "\r\n\r\n", asio::use_awaitable);
  in.consume(in.size());
  constexpr std::string_view kSwitch =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: upgrade\r\n\r\n";
  co_await asio::async_write(pod, asio::buffer(kSwitch), asio::use_awaitable);
  std::array<char, 256> buffer;
  for (;;) {
    auto [error, n] =
        co_await pod.async_read_some(asio::buffer(buffer), asio::as_tuple(asio::use_awaitable));
    if (error) break;
    co_await asio::async_write(pod, asio::buffer(buffer.data(), n), asio::use_awaitable);
  }
}

// Everything the client end receives until the proxy closes it.
asio::awaitable<void> read_all(tcp::socket& from, std::string& into) {
  std::array<char, 1024> buffer;
  for (;;) {
    auto [error, n] =
        co_await from.async_read_some(asio::buffer(buffer), asio::as_tuple(asio::use_awaitable));
    if (error) break;
    into.append(buffer.data(), n);
  }
}

RoutingTablePtr routes_to(const tcp::endpoint& pod) {
  lb::EndpointAddress address;
  address.pod_namespace = "default";
  address.pod_name = "web-1";
  address.ip = pod.address().to_string();
  address.port = pod.port();
  lb::BackendSettings settings;
  settings.name = "default/web:80";
  auto backend = std::make_shared<lb::Backend>(
      settings, std::vector<lb::EndpointPtr>{std::make_shared<lb::Endpoint>(address)});
  auto table = std::make_shared<RoutingTable>();
  table->backends = std::make_shared<const discovery::BackendMap>(
      discovery::BackendMap{{"default/web:80", backend}});
  table->metrics = std::make_shared<const ServiceMetricsMap>(
      ServiceMetricsMap{{"default/web:80", std::make_shared<ServiceMetrics>(
                                               ServiceLabels{"default", "web", "80"}, 1)}});
  return table;
}

// A client connection served by serve_http_connection over a CountingLayer, routed to
// `pod`: the test writes to and reads from `link.outside`.
struct LayeredSession {
  asio::io_context& io;
  WorkerContext worker{0};
  LoopbackLink link;
  LayerCounts counts;

  LayeredSession(asio::io_context& context, const tcp::acceptor& pod)
      : io(context), link(make_loopback_link(context)) {
    worker.publish(routes_to(pod.local_endpoint()));
    const tcp::endpoint peer = link.outside.local_endpoint();
    asio::co_spawn(io,
                   serve_http_connection(CountingLayer(std::move(link.inside), counts), peer,
                                         "default/web:80", worker),
                   asio::detached);
  }
};

}  // namespace

TEST_CASE("a request goes through the L7 path over a stream layered on the socket") {
  asio::io_context io;
  tcp::acceptor pod(io, {asio::ip::make_address("127.0.0.1"), 0});
  std::string pod_saw;
  asio::co_spawn(io, serve_one_pod_request(pod, pod_saw), asio::detached);
  LayeredSession session(io, pod);
  LoopbackLink& link = session.link;
  const LayerCounts& counts = session.counts;

  constexpr std::string_view kRequest =
      "GET /path HTTP/1.1\r\nHost: web\r\nConnection: close\r\n\r\n";
  asio::write(link.outside, asio::buffer(kRequest));
  std::string answer;
  asio::co_spawn(io, read_all(link.outside, answer), asio::detached);
  io.run_for(std::chrono::seconds(10));

  CHECK(answer.starts_with("HTTP/1.1 200 OK\r\n"));
  CHECK(answer.ends_with("\r\n\r\nhello"));
  CHECK(answer.find("Connection: close") != std::string::npos);
  CHECK(pod_saw.starts_with("GET /path HTTP/1.1\r\n"));
  CHECK(pod_saw.find("X-Forwarded-For: 127.0.0.1") != std::string::npos);
  // Every byte to and from the client went through the layer, not around it.
  CHECK(counts.reads >= 1);
  CHECK(counts.writes >= 1);
}

TEST_CASE("an upgrade tunnel works over a layered stream, both ways, until both close") {
  asio::io_context io;
  tcp::acceptor pod(io, {asio::ip::make_address("127.0.0.1"), 0});
  asio::co_spawn(io, serve_one_upgrade(pod), asio::detached);
  LayeredSession session(io, pod);
  LoopbackLink& link = session.link;
  const LayerCounts& counts = session.counts;

  constexpr std::string_view kUpgrade =
      "GET /chat HTTP/1.1\r\nHost: web\r\nUpgrade: echo\r\nConnection: upgrade\r\n\r\n";
  asio::write(link.outside, asio::buffer(kUpgrade));
  std::string received;
  asio::co_spawn(io, read_all(link.outside, received), asio::detached);
  // The client's bytes after the switch, then its close: the pod echoes them and closes.
  asio::steady_timer later(io, std::chrono::milliseconds(200));
  later.async_wait([&](const boost::system::error_code&) {
    asio::write(link.outside, asio::buffer(std::string_view("ping through the layer")));
    link.outside.shutdown(tcp::socket::shutdown_send);
  });
  io.run_for(std::chrono::seconds(10));

  CHECK(received.starts_with("HTTP/1.1 101 Switching Protocols\r\n"));
  CHECK(received.ends_with("\r\n\r\nping through the layer"));
  CHECK(counts.reads >= 2);  // the request, then the tunnelled bytes and the close
  CHECK(counts.writes >= 2);
}

}  // namespace svcproxy::server

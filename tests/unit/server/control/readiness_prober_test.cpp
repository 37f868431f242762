#include "server/control/readiness_prober.hpp"

#include <doctest/doctest.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <string>
#include <vector>

namespace svcproxy::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using namespace std::chrono_literals;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// A loopback HTTP pod on 127.0.0.1:<ephemeral> answering every request with `status`.
struct TestPod {
  explicit TestPod(asio::io_context& context)
      : acceptor(context, {asio::ip::make_address("127.0.0.1"), 0}) {}
  int port() const { return acceptor.local_endpoint().port(); }

  void serve() {
    asio::co_spawn(acceptor.get_executor(), accept_loop(), [](std::exception_ptr) {});
  }
  // Accepts and then says nothing, so probes time out.
  void serve_silently() {
    asio::co_spawn(acceptor.get_executor(), hold_loop(), [](std::exception_ptr) {});
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [error, socket] = co_await acceptor.async_accept(use_tuple);
      if (error) co_return;
      beast::flat_buffer buffer;
      http::request<http::empty_body> request;
      auto [read_error, n] = co_await http::async_read(socket, buffer, request, use_tuple);
      if (read_error) continue;
      ++requests;
      host = std::string(request[http::field::host]);
      probe_header = std::string(request["X-Probe"]);
      http::response<http::empty_body> response{static_cast<http::status>(status), 11};
      co_await http::async_write(socket, response, use_tuple);
    }
  }
  asio::awaitable<void> hold_loop() {
    std::vector<tcp::socket> held;
    for (;;) {
      auto [error, socket] = co_await acceptor.async_accept(use_tuple);
      if (error) co_return;
      held.push_back(std::move(socket));
    }
  }

  tcp::acceptor acceptor;
  int status = 200;
  int requests = 0;
  std::string host;
  std::string probe_header;
};

conf::Probe fast_probe(conf::Probe::Kind kind, int port) {
  conf::Probe probe;
  probe.kind = kind;
  probe.path = "/healthz";
  probe.port.number = port;
  probe.period = 30ms;
  probe.timeout = 200ms;
  probe.failure_threshold = 2;
  return probe;
}

lb::EndpointPtr pod_endpoint(int port, std::optional<conf::Probe> probe, int service_port = 0) {
  return std::make_shared<lb::Endpoint>(lb::EndpointAddress{
      "default", "web-1", "127.0.0.1", service_port ? service_port : port, "", std::move(probe)});
}

template <typename Done>
bool run_until(asio::io_context& context, Done done, std::chrono::milliseconds limit = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    context.restart();
    context.run_for(10ms);
  }
  return done();
}

int count_containing(const std::vector<std::string>& lines, std::string_view text) {
  return static_cast<int>(std::count_if(lines.begin(), lines.end(), [&](const std::string& line) {
    return line.find(text) != std::string::npos;
  }));
}

struct Fixture {
  asio::io_context context;
  std::vector<std::string> log;
  ReadinessProber prober{context, [this](std::string_view line) { log.emplace_back(line); }};
};

TEST_CASE_FIXTURE(Fixture,
                  "prober: httpGet turns ready on 200 and not ready after failureThreshold 503s") {
  TestPod pod(context);
  pod.serve();
  auto probe = fast_probe(conf::Probe::Kind::HttpGet, pod.port());
  probe.http_headers.push_back({"X-Probe", "yes"});
  auto endpoint = pod_endpoint(pod.port(), probe);
  CHECK_FALSE(endpoint->ready());
  prober.watch({endpoint});
  REQUIRE(run_until(context, [&] { return endpoint->ready(); }));
  CHECK(pod.host == "127.0.0.1:" + std::to_string(pod.port()));
  CHECK(pod.probe_header == "yes");
  CHECK(count_containing(log, "pod default/web-1 127.0.0.1:" + std::to_string(pod.port()) +
                                  " ready: httpGet /healthz returned 200") == 1);
  pod.status = 503;
  REQUIRE(run_until(context, [&] { return !endpoint->ready(); }));
  CHECK(pod.requests >= 3);  // one success, then two failures
  const int requests = pod.requests;
  run_until(context, [&] { return pod.requests >= requests + 3; });
  CHECK(count_containing(log, "not ready: httpGet /healthz returned 503") == 1);  // once
}

TEST_CASE_FIXTURE(Fixture, "prober: tcpSocket to a closed port stays not ready and says why once") {
  int closed_port = 0;
  {
    tcp::acceptor bound(context, {asio::ip::make_address("127.0.0.1"), 0});
    closed_port = bound.local_endpoint().port();
  }
  auto endpoint = pod_endpoint(closed_port, fast_probe(conf::Probe::Kind::TcpSocket, closed_port));
  prober.watch({endpoint});
  REQUIRE(run_until(context, [&] { return !log.empty(); }));
  run_until(
      context, [] { return false; }, 150ms);  // several more failed probes
  CHECK_FALSE(endpoint->ready());
  REQUIRE(log.size() == 1);
  CHECK(log[0].find("not ready: tcpSocket port " + std::to_string(closed_port) + ": ") !=
        std::string::npos);
  CHECK(log[0].find("refused") != std::string::npos);
}

TEST_CASE_FIXTURE(Fixture, "prober: a pod that accepts but never answers times out") {
  TestPod pod(context);
  pod.serve_silently();
  auto endpoint = pod_endpoint(pod.port(), fast_probe(conf::Probe::Kind::HttpGet, pod.port()));
  prober.watch({endpoint});
  REQUIRE(run_until(context, [&] { return !log.empty(); }));
  CHECK(log[0].find("httpGet /healthz: timed out after 200ms") != std::string::npos);
  CHECK_FALSE(endpoint->ready());
}

TEST_CASE_FIXTURE(Fixture,
                  "prober: one probe per distinct target, fanned out; watch replaces the set") {
  TestPod pod(context);
  pod.serve();
  const auto probe = fast_probe(conf::Probe::Kind::TcpSocket, pod.port());
  auto http_port = pod_endpoint(pod.port(), probe, 8080);     // two service ports of one pod,
  auto metrics_port = pod_endpoint(pod.port(), probe, 9090);  // probed on the same port
  auto unprobed = pod_endpoint(pod.port(), std::nullopt);
  prober.watch({http_port, metrics_port, unprobed});
  CHECK(prober.probe_count() == 1);
  REQUIRE(run_until(context, [&] { return http_port->ready() && metrics_port->ready(); }));
  CHECK(unprobed->ready());
  CHECK(log.size() == 1);
  // A Backend rebuilt with a new Endpoint object: it takes the readiness at once.
  auto rebuilt = pod_endpoint(pod.port(), probe, 8080);
  CHECK_FALSE(rebuilt->ready());
  prober.watch({rebuilt, metrics_port});
  CHECK(rebuilt->ready());
  CHECK(prober.probe_count() == 1);
  prober.watch({});
  CHECK(prober.probe_count() == 0);
  run_until(
      context, [] { return false; }, 100ms);  // stopped loops wind down quietly
  CHECK(log.size() == 1);
}

}  // namespace
}  // namespace svcproxy::server

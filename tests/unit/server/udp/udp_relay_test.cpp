// The UDP relay with real loopback sockets: echo "pods" that prefix their name, a client
// socket, and the io_context run until the expected replies came (or a bound passed).
#include "server/udp/udp_relay.hpp"

#include <doctest/doctest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

using namespace svcproxy;
using namespace svcproxy::server;
namespace asio = boost::asio;
using asio::ip::udp;

namespace {

const auto kLoopback = asio::ip::make_address("127.0.0.1");

// A pod: answers every datagram with "<name>:" and the datagram.
struct EchoPod {
  EchoPod(asio::io_context& io, std::string pod_name) : name(std::move(pod_name)), socket(io) {
    socket.open(udp::v4());
    socket.bind({kLoopback, 0});
    asio::co_spawn(io, serve(), asio::detached);
  }
  asio::awaitable<void> serve() {
    std::vector<char> buffer(70000);
    for (;;) {
      udp::endpoint from;
      auto [error, size] = co_await socket.async_receive_from(asio::buffer(buffer), from,
                                                              asio::as_tuple(asio::use_awaitable));
      if (error) co_return;
      ++received;
      std::string reply = name + ":" + std::string(buffer.data(), size);
      co_await socket.async_send_to(asio::buffer(reply), from, asio::as_tuple(asio::use_awaitable));
    }
  }
  lb::EndpointPtr endpoint() {
    lb::EndpointAddress address{"default", name,        "127.0.0.1", socket.local_endpoint().port(),
                                "",        std::nullopt};
    if (!made) made = std::make_shared<lb::Endpoint>(address);
    return made;
  }
  std::string name;
  udp::socket socket;
  int received = 0;
  lb::EndpointPtr made;
};

struct Fixture {
  asio::io_context io;
  EchoPod a{io, "web-a"};
  EchoPod b{io, "web-b"};
  lb::BackendPtr backend;
  UdpCounters counters;
  std::shared_ptr<UdpRelay> relay;
  udp::endpoint service;

  explicit Fixture(UdpRelaySettings settings = {},
                   conf::SessionAffinity affinity = conf::SessionAffinity::None) {
    lb::BackendSettings backend_settings;
    backend_settings.name = "default/dns:53/UDP";
    backend_settings.session_affinity = affinity;
    backend = std::make_shared<const lb::Backend>(
        backend_settings, std::vector<lb::EndpointPtr>{a.endpoint(), b.endpoint()});
    udp::socket listener(io, udp::v4());
    listener.bind({kLoopback, 0});
    service = listener.local_endpoint();
    relay = std::make_shared<UdpRelay>(
        io, std::move(listener), [this] { return backend; }, settings, counters);
    relay->start();
  }
  ~Fixture() { relay->close(); }

  udp::socket client() {
    udp::socket socket(io, udp::v4());
    socket.bind({kLoopback, 0});
    return socket;
  }

  // Sends `payload` from `socket` and returns the reply and where it came from ("" when
  // none came within a second).
  std::pair<std::string, udp::endpoint> exchange(udp::socket& socket, const std::string& payload) {
    socket.send_to(asio::buffer(payload), service);
    std::string reply;
    udp::endpoint from;
    std::vector<char> buffer(70000);
    socket.async_receive_from(asio::buffer(buffer), from, [&](auto error, std::size_t size) {
      if (!error) reply.assign(buffer.data(), size);
      if (!error) io.stop();
    });
    io.restart();
    io.run_for(std::chrono::seconds(1));
    socket.cancel();
    io.restart();
    io.poll();
    return {reply, from};
  }

  void run_for(std::chrono::milliseconds time) {
    io.restart();
    io.run_for(time);
  }
};

std::string pod_of(const std::string& reply) {
  return reply.substr(0, reply.find(':'));
}

}  // namespace

TEST_CASE("UDP: a client's datagrams go to one pod and replies come from the Service address") {
  Fixture f;
  udp::socket client = f.client();
  const auto [first, from] = f.exchange(client, "hello");
  CHECK(from == f.service);
  const std::string pod = pod_of(first);
  CHECK((pod == "web-a" || pod == "web-b"));
  CHECK(first == pod + ":hello");
  for (int i = 0; i < 5; ++i)
    CHECK(pod_of(f.exchange(client, "again").first) == pod);
  CHECK(f.relay->session_count() == 1);
  // The largest IPv4 UDP payload passes whole, both ways.
  std::string large(65507 - 6, 'x');
  large[0] = 'L';
  large.back() = 'E';
  const std::string reply = f.exchange(client, large).first;
  CHECK(reply.size() == pod.size() + 1 + large.size());
  CHECK(reply.substr(pod.size() + 1) == large);
  CHECK(f.counters.datagrams_to_pods.load() == 7);
  CHECK(f.counters.datagrams_to_clients.load() == 7);
}

TEST_CASE("UDP: sessions of different clients are balanced over the pods") {
  Fixture f;
  udp::socket one = f.client(), two = f.client();
  const std::string first = pod_of(f.exchange(one, "1").first);
  const std::string second = pod_of(f.exchange(two, "2").first);
  CHECK(first != second);  // round robin, one session each
  CHECK(f.relay->session_count() == 2);
}

// kube-proxy's stale-conntrack bugs: a client that keeps its socket while its pod goes must
// reach another pod on its next datagram, not a blackhole.
TEST_CASE("UDP: a session whose pod stops serving moves to another pod on its next datagram") {
  Fixture f;
  udp::socket client = f.client();
  const std::string before = pod_of(f.exchange(client, "x").first);
  (before == "web-a" ? f.a : f.b).endpoint()->set_terminating();
  const std::string after = pod_of(f.exchange(client, "y").first);
  CHECK(after != before);
  CHECK(f.counters.sessions_moved.load() == 1);
  // A terminating pod still serves when no other can (Kubernetes' terminating-endpoint
  // rule); once neither is ready, nothing does.
  CHECK(pod_of(f.exchange(client, "y2").first) == after);
  f.a.endpoint()->set_ready(false);
  f.b.endpoint()->set_ready(false);
  CHECK(f.exchange(client, "z").first.empty());
  CHECK(f.counters.dropped_no_endpoint.load() == 1);
  CHECK(f.relay->session_count() == 0);
}

TEST_CASE("UDP: idle sessions expire after timeouts.udpIdle") {
  Fixture f({std::chrono::milliseconds(100), 16});
  udp::socket client = f.client();
  CHECK_FALSE(f.exchange(client, "x").first.empty());
  CHECK(f.relay->session_count() == 1);
  f.run_for(std::chrono::milliseconds(300));
  CHECK(f.relay->session_count() == 0);
  CHECK(f.counters.sessions_expired.load() == 1);
}

TEST_CASE("UDP: at maxUdpSessions the least recently active session is evicted") {
  Fixture f({std::chrono::seconds(30), 2});
  udp::socket one = f.client(), two = f.client(), three = f.client();
  f.exchange(one, "1");
  f.exchange(two, "2");
  f.exchange(one, "1 again");  // two is now the oldest idle
  CHECK_FALSE(f.exchange(three, "3").first.empty());
  CHECK(f.relay->session_count() == 2);
  CHECK(f.counters.sessions_evicted.load() == 1);
  CHECK(f.counters.sessions_opened.load() == 3);
  // Evicted, not refused: two's next datagram opens a session again (evicting one).
  CHECK_FALSE(f.exchange(two, "2 again").first.empty());
  CHECK(f.counters.sessions_evicted.load() == 2);
}

TEST_CASE("UDP: ClientIP affinity keeps a client address on one pod across its sessions") {
  Fixture f({std::chrono::seconds(30), 1}, conf::SessionAffinity::ClientIP);
  udp::socket one = f.client(), two = f.client();  // one client IP, two ports
  const std::string first = pod_of(f.exchange(one, "1").first);
  CHECK(pod_of(f.exchange(two, "2").first) == first);  // a new session (one evicted), same pod
  CHECK(f.counters.sessions_evicted.load() == 1);
}

TEST_CASE("UDP: with no pod a datagram is dropped and counted") {
  Fixture f;
  f.a.endpoint()->set_ready(false);
  f.b.endpoint()->set_ready(false);
  udp::socket client = f.client();
  CHECK(f.exchange(client, "x").first.empty());
  CHECK(f.counters.dropped_no_endpoint.load() == 1);
  CHECK(f.relay->session_count() == 0);
}

#include "server/dns/cluster_dns_server.hpp"

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <chrono>

#include "conf/addresses.hpp"
#include "dns/cluster_zone.hpp"
#include "server/dns/zone_endpoints.hpp"
#include "server/log/log.hpp"
#include "server/net/open_acceptor.hpp"

namespace svcproxy::server {
namespace asio = boost::asio;
namespace beast = boost::beast;
using asio::ip::tcp;
using asio::ip::udp;

namespace {

constexpr std::size_t kMaxTcpMessage = 65535;  // a 2-octet length prefix (RFC 1035 4.2.2)

std::optional<asio::ip::address> bind_address(const std::string& text, unsigned short& port) {
  const auto parsed = conf::parse_host_port(text, /*port_optional=*/false);
  if (!parsed) return std::nullopt;
  boost::system::error_code error;
  const auto ip = asio::ip::make_address(parsed->host, error);
  if (error) return std::nullopt;
  port = static_cast<unsigned short>(parsed->port);
  return ip;
}

void log_failure(const char* what, std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& failure) {
    log(LogLevel::Error, "cluster DNS ", what, " failed: ", failure.what());
  }
}

}  // namespace

ClusterDnsServer::ClusterDnsServer(asio::io_context& control, const conf::Snapshot& snapshot,
                                   const discovery::BackendMapPtr& backends)
    : control_(control),
      snapshot_(snapshot),
      backends_(backends),
      serial_(static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                             std::chrono::system_clock::now().time_since_epoch())
                                             .count())) {}

bool ClusterDnsServer::start(std::string& error) {
  const std::string& address = snapshot_.proxy.dns.address;
  unsigned short port = 0;
  const auto ip = bind_address(address, port);
  if (!ip) {
    error = "dns.address " + address + ": expected ip:port";
    return false;
  }
  boost::system::error_code failure;
  const udp::endpoint udp_endpoint{*ip, port};
  udp_.open(udp_endpoint.protocol(), failure);
  if (!failure) udp_.bind(udp_endpoint, failure);
  const tcp::endpoint tcp_endpoint{*ip, port};
  open_acceptor(acceptor_, tcp_endpoint, failure);
  if (failure) {
    error = "cluster DNS on " + address + ": " + failure.message();
    boost::system::error_code ignored;
    udp_.close(ignored);
    acceptor_.close(ignored);
    return false;
  }
  asio::co_spawn(control_, udp_loop(), [](std::exception_ptr e) { log_failure("UDP loop", e); });
  asio::co_spawn(control_, accept_loop(),
                 [](std::exception_ptr e) { log_failure("TCP accept loop", e); });
  return true;
}

void ClusterDnsServer::stop() {
  stopped_ = true;
  boost::system::error_code ignored;
  udp_.close(ignored);
  acceptor_.close(ignored);
}

std::optional<std::vector<std::uint8_t>> ClusterDnsServer::answer(
    std::span<const std::uint8_t> message, std::size_t max_size) const {
  const conf::ClusterDns& settings = snapshot_.proxy.dns;
  const dns::ZoneSettings zone{
      settings.domain,
      static_cast<std::uint32_t>(
          std::chrono::duration_cast<std::chrono::seconds>(settings.ttl).count()),
      serial_};
  const auto now = lb::Clock::now();
  const dns::ZoneSource source{snapshot_, [&](const conf::Service& service) {
                                 return zone_endpoints(service, snapshot_, *backends_, now);
                               }};
  return dns::answer_message(message, zone, source, max_size,
                             static_cast<std::uint16_t>(settings.udp_payload_size));
}

// One datagram at a time: an answer is computed in microseconds on this thread, and a
// send to a client that is gone fails at once (UDP never blocks on a peer).
asio::awaitable<void> ClusterDnsServer::udp_loop() {
  std::vector<std::uint8_t> buffer(kMaxTcpMessage);
  udp::endpoint client;
  while (udp_.is_open()) {
    auto [error, n] = co_await udp_.async_receive_from(asio::buffer(buffer), client,
                                                       asio::as_tuple(asio::use_awaitable));
    if (stopped_ || error == asio::error::operation_aborted) co_return;
    if (error) continue;  // ICMP errors of an earlier send surface here on Linux
    const auto response = answer(std::span(buffer.data(), n), 0);
    if (!response) continue;
    auto [send_error, sent] = co_await udp_.async_send_to(asio::buffer(*response), client,
                                                          asio::as_tuple(asio::use_awaitable));
    (void)send_error;
    (void)sent;
  }
}

asio::awaitable<void> ClusterDnsServer::accept_loop() {
  asio::steady_timer backoff(control_);
  while (acceptor_.is_open()) {
    auto [error, socket] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
    if (stopped_ || error == asio::error::operation_aborted) co_return;
    if (error) {
      log(LogLevel::Error, "cluster DNS accept: ", error.message(), "; retrying in 100ms");
      backoff.expires_after(std::chrono::milliseconds(100));
      co_await backoff.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    if (sessions_ >= snapshot_.proxy.dns.max_tcp_connections) continue;  // closed: refused
    ++sessions_;
    asio::co_spawn(control_, tcp_session(std::move(socket)), [this](std::exception_ptr e) {
      --sessions_;
      log_failure("TCP connection", e);
    });
  }
}

// Queries in a row on one connection (RFC 7766 6.2.1), each answered before the next is
// read; the connection closes after tcpIdleTimeout without a whole query.
asio::awaitable<void> ClusterDnsServer::tcp_session(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  std::vector<std::uint8_t> message;
  while (!stopped_) {
    std::array<std::uint8_t, 2> length{};
    stream.expires_after(snapshot_.proxy.dns.tcp_idle_timeout);
    auto [length_error, length_read] = co_await asio::async_read(
        stream, asio::buffer(length), asio::as_tuple(asio::use_awaitable));
    if (length_error) co_return;
    message.resize(static_cast<std::size_t>(length[0] << 8 | length[1]));
    auto [read_error, read] = co_await asio::async_read(stream, asio::buffer(message),
                                                        asio::as_tuple(asio::use_awaitable));
    if (read_error) co_return;
    auto response = answer(message, kMaxTcpMessage);
    if (!response) co_return;  // not a query: nothing more to say to this peer
    const std::array<std::uint8_t, 2> prefix{static_cast<std::uint8_t>(response->size() >> 8),
                                             static_cast<std::uint8_t>(response->size())};
    const std::array<asio::const_buffer, 2> buffers{asio::buffer(prefix), asio::buffer(*response)};
    stream.expires_after(snapshot_.proxy.dns.tcp_idle_timeout);
    auto [write_error, written] =
        co_await asio::async_write(stream, buffers, asio::as_tuple(asio::use_awaitable));
    if (write_error) co_return;
  }
}

}  // namespace svcproxy::server

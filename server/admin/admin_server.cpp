#include "server/admin/admin_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "server/log/log.hpp"

namespace svcproxy::server {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

namespace {

// Admin requests are tiny GETs: small limits keep a misbehaving client cheap.
constexpr std::size_t kHeaderLimit = 8 * 1024;
constexpr std::size_t kBodyLimit = 4 * 1024;
constexpr auto kRequestTimeout = std::chrono::seconds(10);  // header + body, per request
constexpr auto kWriteTimeout = std::chrono::seconds(30);    // a large /metrics to a slow reader
constexpr int kMaxRequestsPerConnection = 100;
constexpr int kMaxSessions = 64;

bool parse_address(const std::string& text, tcp::endpoint& endpoint) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos) return false;
  std::string host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  boost::system::error_code error;
  const auto ip = asio::ip::make_address(host.empty() ? "0.0.0.0" : host, error);
  int port = 0;
  try {
    port = std::stoi(text.substr(colon + 1));
  } catch (const std::exception&) {
    return false;
  }
  if (error || port < 0 || port > 65535) return false;
  endpoint = {ip, static_cast<unsigned short>(port)};
  return true;
}

// The status a client gets for a request Beast refused to parse.
std::optional<http::status> status_for(const boost::system::error_code& error) {
  if (error == http::error::header_limit) return http::status::request_header_fields_too_large;
  if (error == http::error::body_limit) return http::status::payload_too_large;
  const auto& parse_errors = http::make_error_code(http::error::bad_target).category();
  if (error.category() == parse_errors && error != http::error::end_of_stream &&
      error != http::error::partial_message)
    return http::status::bad_request;
  return std::nullopt;  // timeout, reset, EOF: nobody to answer
}

asio::awaitable<void> reply_error(beast::tcp_stream& stream, http::status status) {
  AdminResponse response{status, 11};
  response.set(http::field::content_type, "text/plain; charset=utf-8");
  response.body() = std::string(http::obsolete_reason(status)) + "\n";
  response.keep_alive(false);
  response.prepare_payload();
  stream.expires_after(kWriteTimeout);
  co_await http::async_write(stream, response, asio::as_tuple(asio::use_awaitable));
}

}  // namespace

bool AdminServer::start(const std::string& address, std::string& error) {
  tcp::endpoint endpoint;
  if (!parse_address(address, endpoint)) {
    error = "adminAddress " + address + ": expected ip:port";
    return false;
  }
  boost::system::error_code failure;
  acceptor_.open(endpoint.protocol(), failure);
  if (!failure) acceptor_.set_option(tcp::acceptor::reuse_address(true), failure);
  if (!failure) acceptor_.bind(endpoint, failure);
  if (!failure) acceptor_.listen(asio::socket_base::max_listen_connections, failure);
  if (failure) {
    error = "admin listener on " + address + ": " + failure.message();
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    return false;
  }
  bound_ = address;
  asio::co_spawn(control_, accept_loop(), [address](std::exception_ptr e) {
    if (e) log(LogLevel::Error, "admin accept loop on ", address, " failed");
  });
  return true;
}

void AdminServer::stop() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
}

asio::awaitable<void> AdminServer::accept_loop() {
  asio::steady_timer backoff(control_);
  while (acceptor_.is_open()) {
    auto [error, socket] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
    if (error == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
    if (error) {
      log(LogLevel::Error, "admin accept: ", error.message(), "; retrying in 100ms");
      backoff.expires_after(std::chrono::milliseconds(100));
      co_await backoff.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    spawn_session(std::move(socket));
  }
}

void AdminServer::spawn_session(tcp::socket socket) {
  if (sessions_ >= kMaxSessions) return;  // closing the socket refuses the scraper
  ++sessions_;
  asio::co_spawn(control_, session(std::move(socket)), [this](std::exception_ptr e) {
    --sessions_;
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& failure) {
      log(LogLevel::Error, "admin connection failed: ", failure.what());
    }
  });
}

asio::awaitable<void> AdminServer::session(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer(kHeaderLimit + kBodyLimit);
  for (int served = 0; served < kMaxRequestsPerConnection; ++served) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(kHeaderLimit);
    parser.body_limit(kBodyLimit);
    stream.expires_after(kRequestTimeout);
    auto [read_error, n] =
        co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
    if (read_error) {
      if (const auto status = status_for(read_error)) co_await reply_error(stream, *status);
      break;
    }
    AdminResponse response = route_admin_request(parser.get(), sources_, readiness_);
    stream.expires_after(kWriteTimeout);
    auto [write_error, written] =
        co_await http::async_write(stream, response, asio::as_tuple(asio::use_awaitable));
    if (write_error || !response.keep_alive()) break;
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

}  // namespace svcproxy::server

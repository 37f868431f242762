#include "server/admin/admin_server.hpp"

#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/serialize.hpp>
#include <cerrno>
#include <cstdio>

#include "server/admin/admin_api.hpp"
#include "server/admin/api_watch.hpp"
#include "server/admin/kube_proxy_health.hpp"
#include "server/log/log.hpp"
#include "server/net/open_acceptor.hpp"

namespace svcproxy::server {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

namespace {

// The bounds that are not settings (ProxyConfig spec.admin holds the rest): the read
// buffer is sized for one head and a first piece of body, and a connection is closed
// after this many requests so that a reload's new limits reach every client.
constexpr std::size_t kReadBufferExtra = 64 * 1024;
constexpr int kMaxRequestsPerConnection = 100;

// Whether the peer has closed (a watch's client sends nothing once it asked).
bool peer_closed(tcp::socket& socket) {
  char byte;
  const ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

std::string chunk(const std::string& data) {
  char size[20];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  return size + data + "\r\n";
}

// Compares every byte whatever the first difference, so timing tells nothing of the token.
bool same_secret(std::string_view given, std::string_view secret) {
  unsigned char difference = given.size() == secret.size() ? 0 : 1;
  for (std::size_t i = 0; i < given.size(); ++i)
    difference |= static_cast<unsigned char>(given[i] ^ secret[i % secret.size()]);
  return difference == 0;
}

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

asio::awaitable<void> reply_error(beast::tcp_stream& stream, http::status status,
                                  conf::Duration write_timeout) {
  AdminResponse response{status, 11};
  response.set(http::field::content_type, "text/plain; charset=utf-8");
  response.body() = std::string(http::obsolete_reason(status)) + "\n";
  response.keep_alive(false);
  response.prepare_payload();
  stream.expires_after(write_timeout);
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
  open_acceptor(acceptor_, endpoint, failure);
  if (failure) {
    error = "admin listener on " + address + ": " + failure.message();
    return false;
  }
  bound_ = address;
  loopback_ = endpoint.address().is_loopback();
  asio::co_spawn(control_, accept_loop(), [address](std::exception_ptr e) {
    if (e) log(LogLevel::Error, "admin accept loop on ", address, " failed");
  });
  return true;
}

void AdminServer::stop() {
  stopped_ = true;
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
  // Closing the socket refuses the scraper.
  if (sessions_ >= sources_.snapshot.proxy.admin.max_connections) return;
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
  const conf::AdminLimits limits = sources_.snapshot.proxy.admin;  // as of this connection
  beast::flat_buffer buffer(static_cast<std::size_t>(limits.max_header_bytes) + kReadBufferExtra);
  for (int served = 0; served < kMaxRequestsPerConnection; ++served) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
    parser.body_limit(static_cast<std::uint64_t>(limits.max_body_bytes));
    stream.expires_after(limits.request_timeout);
    auto [read_error, n] =
        co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
    if (read_error) {
      if (const auto status = status_for(read_error))
        co_await reply_error(stream, *status, limits.write_timeout);
      break;
    }
    const AdminRequest& request = parser.get();
    const bool reading =
        request.method() == http::verb::get || request.method() == http::verb::head;
    if (role_ == AdminRole::KubeProxyHealth) {
      const auto now = std::chrono::system_clock::now();
      AdminResponse response = kube_proxy_health_response(
          request, readiness_, sources_.last_update ? sources_.last_update() : now, now);
      stream.expires_after(limits.write_timeout);
      auto [write_error, written] =
          co_await http::async_write(stream, response, asio::as_tuple(asio::use_awaitable));
      if (write_error || !response.keep_alive()) break;
      continue;
    }
    if (!reading && sources_.write &&
        parse_api_path(request.target().substr(0, request.target().find('?')))) {
      AdminResponse response = co_await write(request);
      stream.expires_after(limits.write_timeout);
      auto [write_error, written] =
          co_await http::async_write(stream, response, asio::as_tuple(asio::use_awaitable));
      if (write_error || !response.keep_alive()) break;
      continue;
    }
    if (request.method() == http::verb::get) {
      const std::string_view target = request.target();
      const auto path = parse_api_path(target.substr(0, target.find('?')));
      const auto question = target.find('?');
      if (path && question != std::string_view::npos &&
          parse_api_query(target.substr(question + 1), "").watch) {
        co_await watch(stream, request);
        break;
      }
    }
    AdminResponse response = route_admin_request(request, sources_, readiness_);
    stream.expires_after(limits.write_timeout);
    auto [write_error, written] =
        co_await http::async_write(stream, response, asio::as_tuple(asio::use_awaitable));
    if (write_error || !response.keep_alive()) break;
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

std::optional<AdminResponse> AdminServer::refuse_unauthorized(const AdminRequest& request) const {
  const std::optional<std::string> token =
      sources_.api_token ? sources_.api_token() : std::optional<std::string>();
  if (!token && loopback_) return std::nullopt;  // loopback, and no token asked for
  const std::string_view header = request[http::field::authorization];
  std::string_view given = header.starts_with("Bearer ") ? header.substr(7) : std::string_view();
  if (token && !token->empty() && same_secret(given, *token)) return std::nullopt;
  std::string message = "Unauthorized";
  if (!token)
    message = "writes on " + bound_ +
              " (not loopback) need a bearer token: set ProxyConfig apiTokenFile and pass it "
              "with kubectl --token";
  else if (token->empty())
    message = "apiTokenFile could not be read: no write is let in until it can";
  AdminResponse response =
      api_response({401, api_status(401, "Unauthorized", message)}, request.keep_alive());
  response.set(http::field::www_authenticate, "Bearer");
  return response;
}

asio::awaitable<AdminResponse> AdminServer::write(const AdminRequest& request) {
  if (auto refused = refuse_unauthorized(request)) {
    log(LogLevel::Warn, "api: ", request.method_string(), " ", request.target(),
        " refused: unauthorized");
    co_return std::move(*refused);
  }
  const std::string_view target = request.target();
  const auto question = target.find('?');
  ApiWriteRequest write_request;
  write_request.method = request.method();
  write_request.path = *parse_api_path(target.substr(0, question));
  if (question != std::string_view::npos) write_request.query = target.substr(question + 1);
  write_request.content_type = request[http::field::content_type];
  write_request.body = request.body();
  ApiAnswer answer = co_await sources_.write(std::move(write_request));
  // An audit line per write: what changed the cluster, and what was refused.
  log(answer.status < 300 ? LogLevel::Info : LogLevel::Warn, "api: ", request.method_string(), " ",
      target, " -> ", answer.status);
  co_return api_response(std::move(answer), request.keep_alive());
}

asio::awaitable<void> AdminServer::watch(beast::tcp_stream& stream, const AdminRequest& request) {
  const std::string_view target = request.target();
  const auto question = target.find('?');
  const ApiPath path = *parse_api_path(target.substr(0, question));
  const ApiQuery query = parse_api_query(target.substr(question + 1), request[http::field::accept]);
  const conf::AdminLimits limits = sources_.snapshot.proxy.admin;
  ApiAnswer refused;
  auto items = list_items(path, query, sources_.snapshot, *sources_.backends, lb::Clock::now(),
                          refused, sources_.resource_versions);
  if (!items) {
    AdminResponse response{static_cast<http::status>(refused.status), 11};
    response.set(http::field::content_type, "application/json");
    response.body() = boost::json::serialize(refused.body) + "\n";
    response.keep_alive(false);
    response.prepare_payload();
    stream.expires_after(limits.write_timeout);
    co_await http::async_write(stream, response, asio::as_tuple(asio::use_awaitable));
    co_return;
  }
  // By value: the coroutine runs when awaited, after a temporary argument would be gone.
  const auto send = [&](std::string data) -> asio::awaitable<bool> {
    stream.expires_after(limits.write_timeout);
    auto [error, written] =
        co_await asio::async_write(stream, asio::buffer(data), asio::as_tuple(asio::use_awaitable));
    co_return !error;
  };
  const auto send_event = [&](const boost::json::object& event) {
    return send(chunk(boost::json::serialize(event) + "\n"));
  };
  if (!co_await send("HTTP/1.1 200 OK\r\nServer: svcproxy\r\nContent-Type: application/json\r\n"
                     "Cache-Control: no-store\r\nTransfer-Encoding: chunked\r\n\r\n"))
    co_return;
  // From a list's version: that list's state, if it still is the state (else 410, as for
  // a version too old to watch from). From no version: every object ADDED first, as
  // Kubernetes does.
  const bool from_version = !query.resource_version.empty() && query.resource_version != "0";
  if (from_version && list_version(*items) != query.resource_version) {
    if (co_await send_event(watch_gone(query.resource_version))) co_await send("0\r\n\r\n");
    co_return;
  }
  ApiWatch watch(from_version ? *items : std::vector<boost::json::object>{});
  if (!from_version)
    for (const auto& event : watch.update(std::move(*items)))
      if (!co_await send_event(watch_event(event.type, event.object, path.resource, query)))
        co_return;
  const conf::Duration longest = limits.max_watch_duration;
  const conf::Duration asked = std::chrono::seconds(query.timeout_seconds);
  const auto deadline =
      std::chrono::steady_clock::now() +
      (query.timeout_seconds > 0 ? std::min<conf::Duration>(asked, longest) : longest);
  asio::steady_timer tick(control_);
  while (!stopped_ && std::chrono::steady_clock::now() < deadline) {
    tick.expires_after(limits.watch_poll_interval);
    co_await tick.async_wait(asio::as_tuple(asio::use_awaitable));
    if (stopped_ || peer_closed(stream.socket())) break;
    auto now_items = list_items(path, query, sources_.snapshot, *sources_.backends,
                                lb::Clock::now(), refused, sources_.resource_versions);
    if (!now_items) break;
    for (const auto& event : watch.update(std::move(*now_items)))
      if (!co_await send_event(watch_event(event.type, event.object, path.resource, query)))
        co_return;
  }
  co_await send("0\r\n\r\n");
}

}  // namespace svcproxy::server

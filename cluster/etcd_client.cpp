#include "cluster/etcd_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <utility>

namespace svcproxy::cluster {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using asio::awaitable;
using asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
// A full list of 50,000 Pods is tens of MiB; a range is read in pages well below this.
constexpr std::uint64_t kMaxAnswerBytes = 256ull << 20;
constexpr std::size_t kIdleConnections = 4;

std::optional<EtcdEndpoint> parse_endpoint(std::string_view url, std::string& error) {
  std::string_view rest = url;
  if (rest.starts_with("https://")) {
    error = "etcd endpoint " + std::string(url) + ": https is not supported yet; use http://";
    return std::nullopt;
  }
  if (rest.starts_with("http://")) rest.remove_prefix(7);
  while (!rest.empty() && rest.back() == '/')
    rest.remove_suffix(1);
  std::string host;
  std::string port = "2379";
  if (rest.starts_with("[")) {
    const auto close = rest.find(']');
    if (close == std::string_view::npos) {
      error = "etcd endpoint " + std::string(url) + ": unclosed [";
      return std::nullopt;
    }
    host = std::string(rest.substr(1, close - 1));
    rest.remove_prefix(close + 1);
    if (rest.starts_with(":")) port = std::string(rest.substr(1));
  } else if (const auto colon = rest.rfind(':'); colon != std::string_view::npos) {
    host = std::string(rest.substr(0, colon));
    port = std::string(rest.substr(colon + 1));
  } else {
    host = std::string(rest);
  }
  const bool port_ok = !port.empty() && port.size() <= 5 &&
                       port.find_first_not_of("0123456789") == std::string::npos &&
                       std::stoi(port) > 0 && std::stoi(port) <= 65535;
  if (host.empty() || !port_ok || host.find('/') != std::string::npos) {
    error = "etcd endpoint '" + std::string(url) + "' is not http://HOST:PORT";
    return std::nullopt;
  }
  return EtcdEndpoint{host, port, std::string(url)};
}

// A 5xx (no leader, leader changed, a member shutting down) is worth another member; a
// 4xx is an answer about the request itself.
bool worth_another_member(http::status status) {
  return static_cast<unsigned>(status) >= 500;
}

std::string short_body(std::string_view body) {
  std::string text(body.substr(0, 200));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
    text.pop_back();
  return text;
}

}  // namespace

std::optional<std::vector<EtcdEndpoint>> parse_etcd_endpoints(const std::vector<std::string>& urls,
                                                              std::string& error) {
  std::vector<EtcdEndpoint> endpoints;
  for (const auto& list : urls) {
    std::string_view rest = list;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      const std::string_view url = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      if (url.empty()) continue;
      auto endpoint = parse_endpoint(url, error);
      if (!endpoint) return std::nullopt;
      endpoints.push_back(std::move(*endpoint));
    }
  }
  if (endpoints.empty()) {
    error = "no etcd endpoint given";
    return std::nullopt;
  }
  return endpoints;
}

struct EtcdClient::Connection {
  // Beast reads into what the buffer has room for, at least 512 bytes: a buffer left at
  // its first small size read a 1 MiB page of a list 512 bytes per read, one trip through
  // the event loop each (a 24,000-object list took 6 s instead of 0.8).
  explicit Connection(asio::any_io_executor executor) : stream(std::move(executor)) {
    buffer.reserve(kReadBufferBytes);
  }
  static constexpr std::size_t kReadBufferBytes = 64 * 1024;
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  std::size_t endpoint = 0;
};

// Shared with the coroutines in flight, so destroying the client while a call is pending
// leaves them something valid to finish on.
struct EtcdClient::Pool {
  std::vector<std::unique_ptr<Connection>> idle;
  std::vector<std::weak_ptr<Connection>> watches;
};

EtcdClient::EtcdClient(asio::any_io_executor executor, std::vector<EtcdEndpoint> endpoints,
                       std::chrono::milliseconds request_timeout)
    : executor_(std::move(executor)),
      endpoints_(std::move(endpoints)),
      request_timeout_(request_timeout),
      pool_(std::make_shared<Pool>()) {}

EtcdClient::~EtcdClient() {
  cancel_watches();
}

const EtcdEndpoint& EtcdClient::current_endpoint() const {
  return endpoints_[current_];
}

void EtcdClient::cancel_watches() {
  for (auto& weak : pool_->watches)
    if (auto connection = weak.lock()) {
      boost::system::error_code ignored;
      connection->stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
      connection->stream.cancel();
    }
  pool_->watches.clear();
}

namespace {

awaitable<boost::system::error_code> connect(beast::tcp_stream& stream,
                                             const EtcdEndpoint& endpoint,
                                             std::chrono::milliseconds timeout) {
  tcp::resolver resolver(stream.get_executor());
  auto [resolve_error, results] =
      co_await resolver.async_resolve(endpoint.host, endpoint.port, use_tuple);
  if (resolve_error) co_return resolve_error;
  stream.expires_after(timeout);
  auto [connect_error, connected] = co_await stream.async_connect(results, use_tuple);
  if (!connect_error) stream.socket().set_option(tcp::no_delay(true));
  co_return connect_error;
}

http::request<http::string_body> make_request(const EtcdEndpoint& endpoint, std::string path,
                                              std::string body) {
  http::request<http::string_body> request{http::verb::post, std::move(path), 11};
  request.set(http::field::host, endpoint.host + ":" + endpoint.port);
  request.set(http::field::user_agent, "svcproxy/" SVCPROXY_VERSION);
  request.set(http::field::content_type, "application/json");
  request.body() = std::move(body);
  request.prepare_payload();
  return request;
}

}  // namespace

awaitable<Result<json::value>> EtcdClient::call(std::string path, std::string body) {
  std::string failures;
  auto pool = pool_;
  for (std::size_t attempt = 0; attempt < endpoints_.size(); ++attempt) {
    const std::size_t index = current_;
    const EtcdEndpoint& endpoint = endpoints_[index];
    std::string why;
    // A pooled connection the member closed while idle fails at once: one fresh retry.
    for (int fresh = 0; fresh < 2; ++fresh) {
      std::unique_ptr<Connection> connection;
      const bool reused = !pool->idle.empty() && pool->idle.back()->endpoint == index;
      if (reused) {
        connection = std::move(pool->idle.back());
        pool->idle.pop_back();
      } else {
        connection = std::make_unique<Connection>(executor_);
        connection->endpoint = index;
        if (auto error = co_await connect(connection->stream, endpoint, request_timeout_)) {
          why = "cannot connect: " + error.message();
          break;
        }
      }
      auto request = make_request(endpoint, path, body);
      connection->stream.expires_after(request_timeout_);
      auto [write_error, written] =
          co_await http::async_write(connection->stream, request, use_tuple);
      http::response_parser<http::string_body> parser;
      parser.body_limit(kMaxAnswerBytes);
      boost::system::error_code read_error = write_error;
      if (!write_error) {
        auto [error, read] =
            co_await http::async_read(connection->stream, connection->buffer, parser, use_tuple);
        read_error = error;
      }
      if (read_error) {
        why = read_error == beast::error::timeout
                  ? "no answer within " + std::to_string(request_timeout_.count()) + "ms"
                  : read_error.message();
        // A pooled connection the member closed fails at once; one that times out is a
        // member not answering, and a second wait would only double the delay.
        if (reused && read_error != beast::error::timeout) continue;
        break;
      }
      auto response = parser.release();
      if (worth_another_member(response.result())) {
        why = "HTTP " + std::to_string(response.result_int()) + " " + short_body(response.body());
        break;
      }
      boost::system::error_code parse_error;
      json::value answer = json::parse(response.body(), parse_error);
      if (parse_error) {
        why = "HTTP " + std::to_string(response.result_int()) +
              " with a body that is not JSON: " + short_body(response.body());
        break;
      }
      if (response.keep_alive() && pool->idle.size() < kIdleConnections) {
        connection->stream.expires_never();
        pool->idle.push_back(std::move(connection));
      }
      co_return Result<json::value>{std::move(answer), {}};
    }
    failures += (failures.empty() ? "" : "; ") + endpoint.url + ": " + why;
    if (current_ == index) {
      current_ = (index + 1) % endpoints_.size();
      // Connections to the member just left behind are not taken again.
      std::erase_if(pool->idle, [&](const auto& idle) { return idle->endpoint == index; });
    }
  }
  co_return Result<json::value>::failure("etcd: " + failures);
}

namespace {

template <class T, class Parse>
Result<T> parsed(const Result<json::value>& answer, Parse parse) {
  if (!answer) return Result<T>::failure(answer.error);
  std::string error;
  auto value = parse(*answer.value, error);
  if (!value) return Result<T>::failure("etcd: " + error);
  return Result<T>{std::move(value), {}};
}

}  // namespace

awaitable<Result<RangeResult>> EtcdClient::range(std::string key, std::string range_end,
                                                 bool keys_only, std::int64_t limit,
                                                 std::int64_t revision) {
  auto answer =
      co_await call("/v3/kv/range", encode_range(key, range_end, limit, revision, keys_only));
  co_return parsed<RangeResult>(
      answer, [](const json::value& v, std::string& e) { return parse_range(v, e); });
}

awaitable<Result<TxnResult>> EtcdClient::txn(Txn txn) {
  auto answer = co_await call("/v3/kv/txn", encode_txn(txn));
  co_return parsed<TxnResult>(answer,
                              [](const json::value& v, std::string& e) { return parse_txn(v, e); });
}

awaitable<Result<LeaseGrant>> EtcdClient::lease_grant(std::int64_t ttl_seconds) {
  auto answer = co_await call("/v3/lease/grant", encode_lease_grant(ttl_seconds));
  co_return parsed<LeaseGrant>(
      answer, [](const json::value& v, std::string& e) { return parse_lease_grant(v, e); });
}

awaitable<Result<std::int64_t>> EtcdClient::lease_keepalive(std::int64_t id) {
  auto answer = co_await call("/v3/lease/keepalive", encode_lease_id(id));
  co_return parsed<std::int64_t>(
      answer, [](const json::value& v, std::string& e) { return parse_lease_keepalive(v, e); });
}

awaitable<Result<bool>> EtcdClient::lease_revoke(std::int64_t id) {
  auto answer = co_await call("/v3/lease/revoke", encode_lease_id(id));
  co_return parsed<bool>(answer, [](const json::value& v, std::string& e) -> std::optional<bool> {
    if (std::string failure = gateway_error(v); !failure.empty()) {
      e = std::move(failure);
      return std::nullopt;
    }
    return true;
  });
}

awaitable<std::string> EtcdClient::watch(std::string key, std::string range_end,
                                         std::int64_t start_revision, WatchHandler on_message) {
  auto pool = pool_;
  const std::size_t index = current_;
  const EtcdEndpoint& endpoint = endpoints_[index];
  auto connection = std::make_shared<Connection>(executor_);
  const auto fail = [&](std::string why) {
    if (current_ == index) current_ = (index + 1) % endpoints_.size();
    return endpoint.url + ": " + why;
  };
  if (auto error = co_await connect(connection->stream, endpoint, request_timeout_))
    co_return fail("cannot connect: " + error.message());
  std::erase_if(pool->watches, [](const auto& weak) { return weak.expired(); });
  pool->watches.push_back(connection);

  auto request =
      make_request(endpoint, "/v3/watch", encode_watch_create(key, range_end, start_revision));
  connection->stream.expires_after(request_timeout_);
  auto [write_error, written] = co_await http::async_write(connection->stream, request, use_tuple);
  if (write_error) co_return fail("watch: " + write_error.message());
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(boost::none);
  auto [head_error, head] =
      co_await http::async_read_header(connection->stream, connection->buffer, parser, use_tuple);
  if (head_error) co_return fail("watch: " + head_error.message());
  if (parser.get().result() != http::status::ok)
    co_return fail("watch: HTTP " + std::to_string(parser.get().result_int()));

  // Messages are JSON objects, one per line; a line may arrive in pieces.
  std::string pending;
  char chunk[16 * 1024];
  bool created = false;
  for (;;) {
    parser.get().body().data = chunk;
    parser.get().body().size = sizeof chunk;
    auto [error, read] =
        co_await http::async_read_some(connection->stream, connection->buffer, parser, use_tuple);
    if (error == http::error::need_buffer) error = {};
    if (error)
      co_return fail(error == beast::error::timeout ? "watch: not created in time"
                                                    : "watch: " + error.message());
    pending.append(chunk, sizeof chunk - parser.get().body().size);
    std::size_t line_start = 0;
    for (std::size_t newline; (newline = pending.find('\n', line_start)) != std::string::npos;
         line_start = newline + 1) {
      const std::string_view line(pending.data() + line_start, newline - line_start);
      if (line.find_first_not_of(" \r\t") == std::string_view::npos) continue;
      boost::system::error_code parse_error;
      json::value value = json::parse(line, parse_error);
      if (parse_error) co_return fail("watch: a message that is not JSON");
      std::string why;
      auto message = parse_watch_message(value, why);
      if (!message) co_return fail("watch: " + why);
      if (message->created && !created) {
        created = true;
        connection->stream.expires_never();  // a quiet watch is not a dead one
      }
      if (!on_message(*message)) co_return std::string();
    }
    pending.erase(0, line_start);
    if (parser.is_done()) co_return fail("watch: the stream ended");
  }
}

}  // namespace svcproxy::cluster

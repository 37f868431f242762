#include "server/control/readiness_prober.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "lb/health_state.hpp"

namespace svcproxy::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::awaitable;
using asio::ip::tcp;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// Owned jointly by the prober and its loop; touched only on the control thread.
struct ProbeTarget {
  ProbeTarget(asio::any_io_executor executor, const lb::EndpointAddress& address, int port,
              std::shared_ptr<const ReadinessProber::LogFn> log_fn,
              std::shared_ptr<const ReadinessProber::TransitionFn> transition_fn)
      : probe(*address.readiness_probe),
        ip(address.ip),
        port(port),
        // An edge probes nodes (their healthCheckNodePort), which have no namespace.
        description((address.pod_namespace.empty() ? "node " : "pod ") + address.pod_key() + " " +
                    ip + ":" + std::to_string(port)),
        health(probe.success_threshold, probe.failure_threshold),
        sleeper(std::move(executor)),
        log(std::move(log_fn)),
        transition(std::move(transition_fn)) {}

  const conf::Probe probe;
  const std::string ip;
  const int port;
  const std::string description;  // "pod default/web-1 127.0.1.1:8080", "node node-a ..."
  lb::HealthState health;
  bool announced = false;  // a line about this target was logged
  bool stopped = false;
  std::vector<lb::EndpointPtr> endpoints;
  asio::steady_timer sleeper;
  std::shared_ptr<const ReadinessProber::LogFn> log;
  std::shared_ptr<const ReadinessProber::TransitionFn> transition;
  bool decided = false;  // a first verdict was handed to `transition`
};

namespace {

struct ProbeResult {
  bool success = false;
  std::string detail;  // "httpGet /healthz returned 503", "tcpSocket port 80: ..."
};

// A probe's port is a number by now (discovery resolves names); 0 falls back to the
// endpoint's own port.
int probe_port(const lb::EndpointAddress& address) {
  const int port = address.readiness_probe->port.number;
  return port > 0 ? port : address.port;
}

// Everything that makes two probes the same probe, so they run once.
std::string probe_identity(const lb::EndpointAddress& address) {
  const conf::Probe& probe = *address.readiness_probe;
  std::string identity = address.ip + "|" + std::to_string(probe_port(address)) + "|" +
                         (probe.kind == conf::Probe::Kind::TcpSocket ? "tcp"
                          : probe.https                              ? "https"
                                                                     : "http") +
                         "|" + probe.path + "|" + probe.host;
  for (const auto& header : probe.http_headers)
    identity += "|" + header.name + ":" + header.value;
  for (const auto duration : {probe.initial_delay, probe.period, probe.timeout})
    identity += "|" + std::to_string(duration.count());
  return identity + "|" + std::to_string(probe.success_threshold) + "|" +
         std::to_string(probe.failure_threshold);
}

std::string format_duration(conf::Duration duration) {
  const auto ms = duration.count();
  return ms % 1000 == 0 ? std::to_string(ms / 1000) + "s" : std::to_string(ms) + "ms";
}

std::string probe_name(const ProbeTarget& target) {
  if (target.probe.kind == conf::Probe::Kind::HttpGet)
    return (target.probe.https ? "httpGet HTTPS " : "httpGet ") + target.probe.path;
  return "tcpSocket port " + std::to_string(target.port);
}

// `stage` names the step that failed when the error alone would not ("TLS handshake: ").
ProbeResult failure(const ProbeTarget& target, const boost::system::error_code& error,
                    std::string_view stage = {}) {
  const std::string reason = error == beast::error::timeout
                                 ? "timed out after " + format_duration(target.probe.timeout)
                                 : error.message();
  return {false, probe_name(target) + ": " + std::string(stage) + reason};
}

// Resolves (httpGet.host may be a name; the pod IP is numeric) and connects, both under
// the probe's timeout.
awaitable<boost::system::error_code> connect(beast::tcp_stream& stream, const ProbeTarget& target) {
  const std::string& host = target.probe.host.empty() ? target.ip : target.probe.host;
  const auto flags =
      target.probe.host.empty() ? tcp::resolver::numeric_host : tcp::resolver::flags();
  tcp::resolver resolver(stream.get_executor());
  auto [resolve_error, results] =
      co_await resolver.async_resolve(host, std::to_string(target.port), flags, use_tuple);
  if (resolve_error) co_return resolve_error;
  stream.expires_after(target.probe.timeout);
  auto [connect_error, connected] = co_await stream.async_connect(results, use_tuple);
  co_return connect_error;
}

http::request<http::empty_body> make_request(const ProbeTarget& target) {
  const std::string& path = target.probe.path.empty() ? std::string("/") : target.probe.path;
  http::request<http::empty_body> request{http::verb::get, path, 11};
  const std::string& host = target.probe.host.empty() ? target.ip : target.probe.host;
  request.set(http::field::host, host + ":" + std::to_string(target.port));
  request.set(http::field::user_agent, "svcproxy-probe/" SVCPROXY_VERSION);
  request.set(http::field::accept, "*/*");
  request.set(http::field::connection, "close");
  // httpHeaders replace the defaults of the same name (Host included), as in the kubelet.
  for (const auto& header : target.probe.http_headers)
    request.erase(header.name);
  for (const auto& header : target.probe.http_headers)
    request.insert(header.name, header.value);
  return request;
}

// The request and the status line of its answer, over `stream` (plain or TLS).
template <class Stream>
awaitable<ProbeResult> exchange(Stream& stream, const ProbeTarget& target) {
  auto request = make_request(target);
  auto [write_error, written] = co_await http::async_write(stream, request, use_tuple);
  if (write_error) co_return failure(target, write_error);
  beast::flat_buffer buffer;
  http::response_parser<http::empty_body> parser;  // the status line is all we need
  auto [read_error, read] = co_await http::async_read_header(stream, buffer, parser, use_tuple);
  if (read_error) co_return failure(target, read_error);
  const unsigned status = parser.get().result_int();
  co_return ProbeResult{status >= 200 && status < 400,
                        probe_name(target) + " returned " + std::to_string(status)};
}

// As the kubelet's HTTPS probes: TLS 1.2 or later, the pod's certificate not checked (a
// probe asks whether the pod answers, not who it is), SNI only for a host name.
asio::ssl::context& probe_tls_context() {
  static asio::ssl::context context = [] {
    asio::ssl::context made(asio::ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(made.native_handle(), TLS1_2_VERSION);
    made.set_verify_mode(asio::ssl::verify_none);
    return made;
  }();
  return context;
}

bool is_ip_literal(const std::string& host) {
  boost::system::error_code error;
  asio::ip::make_address(host, error);
  return !error;
}

awaitable<ProbeResult> http_get(const ProbeTarget& target) {
  beast::tcp_stream stream(co_await asio::this_coro::executor);
  if (auto error = co_await connect(stream, target)) co_return failure(target, error);
  if (!target.probe.https) co_return co_await exchange(stream, target);
  beast::ssl_stream<beast::tcp_stream> tls(std::move(stream), probe_tls_context());
  if (!target.probe.host.empty() && !is_ip_literal(target.probe.host))
    SSL_set_tlsext_host_name(tls.native_handle(), target.probe.host.c_str());
  auto [handshake_error] = co_await tls.async_handshake(asio::ssl::stream_base::client, use_tuple);
  if (handshake_error) co_return failure(target, handshake_error, "TLS handshake: ");
  co_return co_await exchange(tls, target);
}

awaitable<ProbeResult> tcp_socket(const ProbeTarget& target) {
  beast::tcp_stream stream(co_await asio::this_coro::executor);
  if (auto error = co_await connect(stream, target)) co_return failure(target, error);
  co_return ProbeResult{true, probe_name(target) + " connected"};
}

// One branch per co_await: GCC 12 miscompiles co_await inside a conditional expression
// (the result is destroyed twice).
awaitable<ProbeResult> run_probe(const ProbeTarget& target) {
  if (target.probe.kind == conf::Probe::Kind::HttpGet) co_return co_await http_get(target);
  co_return co_await tcp_socket(target);
}

// Readiness follows the hysteresis; a line is logged per transition, plus the first
// failure of a probe never yet reported, so a pod that never becomes ready says why.
void apply(ProbeTarget& target, const ProbeResult& result) {
  const bool changed = target.health.record(result.success);
  for (const auto& endpoint : target.endpoints)
    endpoint->set_ready(target.health.ready());
  if ((changed || !target.decided) && *target.transition && !target.endpoints.empty()) {
    target.decided = true;
    (*target.transition)(target.endpoints.front()->address(), target.health.ready());
  }
  if (!changed && (result.success || target.announced)) return;
  target.announced = true;
  (*target.log)(target.description + (target.health.ready() ? " ready: " : " not ready: ") +
                result.detail);
}

awaitable<void> sleep_until(ProbeTarget& target, lb::Clock::time_point when) {
  target.sleeper.expires_at(when);
  co_await target.sleeper.async_wait(use_tuple);  // cancelled by stop: the loop checks
}

awaitable<void> probe_loop(std::shared_ptr<ProbeTarget> target) {
  co_await sleep_until(*target, lb::Clock::now() + target->probe.initial_delay);
  while (!target->stopped) {
    const auto started = lb::Clock::now();
    const ProbeResult result = co_await run_probe(*target);
    if (target->stopped) break;
    apply(*target, result);
    co_await sleep_until(*target, started + target->probe.period);  // period start to start
  }
}

void stop(ProbeTarget& target) {
  target.stopped = true;
  target.endpoints.clear();
  target.sleeper.cancel();
}

}  // namespace

ReadinessProber::ReadinessProber(asio::io_context& control, LogFn log)
    : control_(control), log_(std::make_shared<const LogFn>(std::move(log))) {}

ReadinessProber::~ReadinessProber() {
  for (auto& [identity, target] : targets_)
    stop(*target);
}

void ReadinessProber::watch(const std::vector<lb::EndpointPtr>& endpoints) {
  std::unordered_map<std::string, std::vector<lb::EndpointPtr>> wanted;
  for (const auto& endpoint : endpoints)
    if (endpoint->address().readiness_probe)
      wanted[probe_identity(endpoint->address())].push_back(endpoint);
  std::erase_if(targets_, [&](auto& item) {
    if (wanted.contains(item.first)) return false;
    stop(*item.second);
    return true;
  });
  for (auto& [identity, group] : wanted)
    subscribe(identity, std::move(group));
}

void ReadinessProber::subscribe(const std::string& identity,
                                std::vector<lb::EndpointPtr> endpoints) {
  auto& target = targets_[identity];
  const bool is_new = !target;
  if (is_new) {
    const lb::EndpointAddress& address = endpoints.front()->address();
    target = std::make_shared<ProbeTarget>(control_.get_executor(), address, probe_port(address),
                                           log_, transition_);
  }
  for (const auto& endpoint : endpoints)
    endpoint->set_ready(target->health.ready());
  target->endpoints = std::move(endpoints);
  if (is_new) start(target);
}

void ReadinessProber::start(const std::shared_ptr<ProbeTarget>& target) {
  // The completion handler holds only the log, not this prober, which may be gone by then.
  asio::co_spawn(control_, probe_loop(target),
                 [log = log_, description = target->description](std::exception_ptr error) {
                   if (!error) return;
                   try {
                     std::rethrow_exception(error);
                   } catch (const std::exception& e) {
                     (*log)(description + " probe loop failed: " + e.what());
                   }
                 });
}

}  // namespace svcproxy::server

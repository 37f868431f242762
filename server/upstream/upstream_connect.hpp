// How a request or a client connection reaches a pod: UpstreamAttempts is the one place
// that picks an endpoint (the only caller of Backend::pick) and connects to it, from the
// worker's keep-alive pool or with a fresh connect, and the one place that holds a connect
// failure against a pod. The next endpoint is tried when one refuses, times out or is
// unreachable, so a client never notices a dead pod while a live one exists; a failure
// that is svcproxy's own (socket_faults.hpp) ends the attempt at once and blames nobody.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "conf/model.hpp"
#include "lb/backend.hpp"
#include "lb/outlier_detection.hpp"
#include "server/http_message/http_errors.hpp"
#include "server/metrics/metrics.hpp"
#include "server/upstream/retry_policy.hpp"
#include "server/upstream/socket_faults.hpp"
#include "server/upstream/upstream_pool.hpp"
#include "server/upstream/upstream_tls.hpp"

namespace svcproxy::server {

// A connection to one pod, held for an exchange (L7) or a whole client connection (L4).
struct UpstreamLink {
  explicit UpstreamLink(const boost::asio::any_io_executor& executor) : socket(executor) {}
  boost::asio::ip::tcp::socket socket;
  // TLS over `socket` on a backend-TLS port (upstream_tls.hpp); null otherwise.
  std::unique_ptr<UpstreamTlsSession> tls;
  lb::ActiveGuard guard;  // the pod, counted active (least-connections) while held
  bool reused = false;    // an idle keep-alive connection from the pool

  bool connected() const { return static_cast<bool>(guard.endpoint()); }
  const lb::EndpointPtr& endpoint() const { return guard.endpoint(); }
};

// Where idle keep-alive connections come from, for L7. `unchecked`: a connection parked a
// moment ago may skip its liveness peek (see UpstreamPool::take) — only when a failure on
// it could be retried.
struct PoolUse {
  UpstreamPool* pool = nullptr;
  bool unchecked = false;
};

// TLS to the pods (a backend-TLS port): every fresh connection handshakes within
// `handshake_timeout` before it counts as connected; one that fails is held against its
// pod like a refused connect, and the next pod is tried.
struct TlsUse {
  std::shared_ptr<const UpstreamTls> config;
  conf::Duration handshake_timeout{};
};

class UpstreamAttempts {
 public:
  // `tried` (kept by the caller to reuse its capacity) is cleared: the endpoints this
  // request or connection used so far. `stats` may be null (no counting).
  UpstreamAttempts(const lb::Backend& backend, std::string_view client_ip,
                   std::vector<const lb::Endpoint*>& tried, ServiceStats* stats);

  // Connects `link` to a pod: the one retry_after() chose, on a fresh connection, else a
  // picked one, pooled when `pool` has an idle connection to it. Nothing when connected;
  // NoEndpoint when there was none to pick, ConnectFailed when every pod tried failed,
  // TlsFailed when the last one connected but its TLS handshake failed, LocalResource
  // when svcproxy ran out of its own resources.
  boost::asio::awaitable<std::optional<UpstreamFailure>> connect(UpstreamLink& link,
                                                                 conf::Duration timeout,
                                                                 PoolUse pool = {},
                                                                 const TlsUse& tls = {});

  // After the exchange on `failed` broke and the retry policy allowed another try: the pod
  // for it, another one not yet tried or, for OtherOrSamePod, the same one again. False
  // when there is none (answer the failure).
  bool retry_after(const lb::EndpointPtr& failed, RetryDecision decision);

  // Feeds the outlier detector and logs an ejection.
  void report(lb::Endpoint& endpoint, lb::Outcome outcome) const;

  // "ns/pod ip:port: reason" of the last failed connect, or why nothing was picked.
  const std::string& last_failure() const { return last_failure_; }

 private:
  const lb::Backend& backend_;
  std::string_view client_ip_;
  std::vector<const lb::Endpoint*>& tried_;
  ServiceStats* stats_;
  lb::EndpointPtr retry_pod_;
  std::string last_failure_;
};

// Resolves a pod address once per connect; returns an empty endpoint for a malformed IP.
boost::asio::ip::tcp::endpoint to_tcp_endpoint(const lb::EndpointAddress& address,
                                               boost::system::error_code& error);

}  // namespace svcproxy::server

// A client of etcd's v3 JSON gateway on one io_context (the control context of a node, the
// main thread of `svcproxy apply`): unary calls over pooled HTTP/1.1 keep-alive connections,
// and watch streams read as they arrive, all as coroutines; no thread per watch.
//
// Several endpoints (the members of one cluster) fail over: a call that cannot reach a
// member, times out or gets a 5xx (no leader, leader changed) moves on to the next and
// stays there. Every write svcproxy makes is a compare-and-swap, so a call repeated after
// an answer was lost does no harm.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/etcd_messages.hpp"

namespace svcproxy::cluster {

struct EtcdEndpoint {
  std::string host;
  std::string port;
  std::string url;  // as given, for messages
};

// "http://10.0.0.1:2379,http://10.0.0.2:2379" (or a list of such). The scheme may be left
// out; https is not spoken yet and is an error.
std::optional<std::vector<EtcdEndpoint>> parse_etcd_endpoints(const std::vector<std::string>& urls,
                                                              std::string& error);

template <class T>
struct Result {
  std::optional<T> value;
  std::string error;  // set when value is not

  explicit operator bool() const { return value.has_value(); }
  static Result failure(std::string why) { return {std::nullopt, std::move(why)}; }
};

// The reads and writes `apply` and the readiness writer need, so tests can run them
// against an in-memory store with etcd's transaction semantics.
class KvStore {
 public:
  virtual ~KvStore() = default;
  virtual boost::asio::awaitable<Result<RangeResult>> range(std::string key, std::string range_end,
                                                            bool keys_only = false,
                                                            std::int64_t limit = 0,
                                                            std::int64_t revision = 0) = 0;
  virtual boost::asio::awaitable<Result<TxnResult>> txn(Txn txn) = 0;
};

class EtcdClient : public KvStore {
 public:
  // What a watch stream delivers; returning false ends the watch.
  using WatchHandler = std::function<bool(WatchMessage&)>;

  EtcdClient(boost::asio::any_io_executor executor, std::vector<EtcdEndpoint> endpoints,
             std::chrono::milliseconds request_timeout);
  ~EtcdClient() override;
  EtcdClient(const EtcdClient&) = delete;
  EtcdClient& operator=(const EtcdClient&) = delete;

  // POSTs `body` to `path` ("/v3/kv/range"), failing over between endpoints.
  boost::asio::awaitable<Result<boost::json::value>> call(std::string path, std::string body);

  boost::asio::awaitable<Result<RangeResult>> range(std::string key, std::string range_end,
                                                    bool keys_only = false, std::int64_t limit = 0,
                                                    std::int64_t revision = 0) override;
  boost::asio::awaitable<Result<TxnResult>> txn(Txn txn) override;
  boost::asio::awaitable<Result<LeaseGrant>> lease_grant(std::int64_t ttl_seconds);
  // The remaining TTL; 0 when the lease is gone (expired or revoked).
  boost::asio::awaitable<Result<std::int64_t>> lease_keepalive(std::int64_t id);
  boost::asio::awaitable<Result<bool>> lease_revoke(std::int64_t id);

  // Opens a watch on the current endpoint from `start_revision` and hands every message to
  // `on_message` until the stream ends, the handler says stop, or cancel_watches() is
  // called. The stream must say "created" within the request timeout. Returns why it
  // ended. A failure moves the client to the next endpoint.
  boost::asio::awaitable<std::string> watch(std::string key, std::string range_end,
                                            std::int64_t start_revision, WatchHandler on_message);
  // Closes every open watch stream (their watch() calls return).
  void cancel_watches();

  const EtcdEndpoint& current_endpoint() const;
  std::chrono::milliseconds request_timeout() const { return request_timeout_; }

 private:
  struct Connection;
  struct Pool;

  boost::asio::any_io_executor executor_;
  std::vector<EtcdEndpoint> endpoints_;
  std::chrono::milliseconds request_timeout_;
  std::size_t current_ = 0;
  std::shared_ptr<Pool> pool_;
};

}  // namespace svcproxy::cluster

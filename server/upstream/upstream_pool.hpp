// Idle keep-alive connections to pods, per endpoint, for one worker. Worker-local: touched
// only on its worker's thread, so no locks.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "conf/model.hpp"
#include "lb/endpoint.hpp"

namespace svcproxy::server {

class UpstreamTls;
struct UpstreamTlsSession;

class UpstreamPool {
 public:
  struct Settings {
    std::size_t max_idle_per_endpoint = 512;
    conf::Duration idle_timeout = std::chrono::seconds(60);
    conf::Duration verify_after = std::chrono::milliseconds(200);
  };

  // A parked connection: the socket and, on a backend-TLS port, its TLS session.
  struct Connection {
    boost::asio::ip::tcp::socket socket;
    std::unique_ptr<UpstreamTlsSession> tls;
  };

  UpstreamPool();
  explicit UpstreamPool(Settings settings);
  ~UpstreamPool();

  // The most recently parked connection to `endpoint` that is still open, or nothing.
  // A connection the pod closed (or wrote to unasked) while idle is dropped here with one
  // non-blocking peek, so it never carries a request. The peek (a syscall) is skipped for a
  // connection parked less than `verify_after` ago when `may_skip_check` (the caller can
  // retry the request on a fresh connection if a pod closed it in that instant). `tls`:
  // the port's backend TLS (null: plain); a connection made for other TLS settings (a
  // reload changed the CA) is dropped too.
  std::optional<Connection> take(const lb::Endpoint& endpoint, bool may_skip_check,
                                 const UpstreamTls* tls = nullptr);

  // Parks a connection after a complete exchange. Over the per-endpoint bound the oldest
  // goes; a terminating endpoint's connections are closed instead.
  void put(const lb::EndpointPtr& endpoint, boost::asio::ip::tcp::socket socket,
           std::unique_ptr<UpstreamTlsSession> tls = nullptr);

  // Closes connections idle longer than the idle timeout or closed by their pod.
  void sweep(std::chrono::steady_clock::time_point now);
  void clear();

  std::size_t idle_count() const;
  void set_settings(Settings settings) { settings_ = settings; }

 private:
  struct Idle {
    Connection connection;
    std::chrono::steady_clock::time_point since;
  };
  struct Entry {
    lb::EndpointPtr endpoint;  // keeps the key's address unique while the entry exists
    std::vector<Idle> idle;    // oldest first
  };

  Settings settings_;
  std::unordered_map<const lb::Endpoint*, Entry> entries_;
};

// True when a connection has neither been closed by its peer nor received unexpected data.
bool idle_connection_usable(boost::asio::ip::tcp::socket& socket);

}  // namespace svcproxy::server
